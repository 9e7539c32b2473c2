using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Peers;

/// <summary>
/// Asks every other ready member at once about a manifest, only while the upstream cannot answer. Any member that holds
/// it as denied outweighs every copy; among the copies of a tag, the one the upstream named most recently is taken; a
/// copy whose bytes do not hash to the digest its lender names is no copy. Each member costs at most the connect timeout
/// when it is gone and the response timeout when it is slow, so the asking agent still answers containerd quickly.
/// </summary>
public sealed class PeerManifests(PeerClient client, PeerMembership membership, PeerMetrics metrics, PeerOptions options, ILogger logger) : IManifestLenders
{
    public async Task<LenderAnswer> AskAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, CancellationToken cancellationToken)
    {
        var members = membership.Members.Where(m => m.Ready && !membership.IsSelf(m)).ToList();
        var path = PeerPaths.Manifest(route.Registry, repository, reference);
        var answers = await Task.WhenAll(members.Select(member => AskOneAsync(member, path, reference, accept, cancellationToken))).ConfigureAwait(false);
        var repositoryPublic = answers.Any(a => a.RepositoryPublic);
        var chosen = answers.FirstOrDefault(a => a.Denial is not null)
            ?? answers.Where(a => a.Manifest is not null).OrderByDescending(a => a.FetchedAt ?? DateTimeOffset.MinValue).FirstOrDefault()
            ?? LenderAnswer.None;
        return chosen with { RepositoryPublic = repositoryPublic };
    }

    private async Task<LenderAnswer> AskOneAsync(PeerMember member, string path, string reference, string? accept, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.SendAsync(HttpMethod.Get, member.Id, path, rangeStart: null, accept ?? MediaTypes.ManifestAccept, cancellationToken).ConfigureAwait(false);
            var repositoryPublic = response.Headers.TryGetValues(PeerPaths.RepositoryHeader, out var privacy) && privacy.Contains("public");
            var none = LenderAnswer.None with { RepositoryPublic = repositoryPublic };
            if (response.Headers.TryGetValues(PeerPaths.DeniedHeader, out var codes))
            {
                metrics.Request(PeerRequestResult.Denied);
                var (body, _) = await BoundedBody.ReadAsync(response.Content, MediaTypes.MaxManifestSize, options.ResponseTimeout, cancellationToken).ConfigureAwait(false);
                var denial = MirrorError.FromUpstreamRefusal((int)response.StatusCode, codes.First(), $"agent {member.Id} holds {reference} as denied by the upstream",
                    System.Text.Encoding.UTF8.GetString(body), response.Content.Headers.ContentType?.ToString());
                return new LenderAnswer(null, null, denial, repositoryPublic, member.Id);
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                metrics.Request(response.StatusCode == HttpStatusCode.NotFound ? PeerRequestResult.NotFound : PeerRequestResult.Failed);
                return none;
            }
            var (bytes, complete) = await BoundedBody.ReadAsync(response.Content, MediaTypes.MaxManifestSize, options.ResponseTimeout, cancellationToken).ConfigureAwait(false);
            var named = response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var header) ? header : (Digest?)null;
            var byDigest = Digest.TryParse(reference, out var wanted);
            // Hashed by the algorithm of the digest asked for, or else of the one the lender names.
            var digest = Digest.Compute((byDigest ? wanted : named)?.Algorithm ?? DigestAlgorithm.Sha256, bytes);
            if (!complete || named != digest || (byDigest && wanted != digest))
            {
                metrics.Request(PeerRequestResult.Failed);
                logger.LogWarning("Agent {Peer} lent {Reference} whose bytes do not match the digest it names; not used", member.Id, reference);
                return none;
            }
            metrics.Request(PeerRequestResult.Served);
            var fetchedAt = response.Headers.TryGetValues(PeerPaths.FetchedAtHeader, out var at) && long.TryParse(at.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : (DateTimeOffset?)null;
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? MediaTypes.OciManifest;
            return new LenderAnswer(new ManifestContent(digest, mediaType, bytes), fetchedAt, null, repositoryPublic, member.Id);
        }
        catch (PeerUnansweredException ex)
        {
            metrics.Request(ex.Result);
            return LenderAnswer.None;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            metrics.Request(PeerRequestResult.Failed);
            return LenderAnswer.None;
        }
    }
}
