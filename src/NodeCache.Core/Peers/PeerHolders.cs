using System.Net;
using Microsoft.Extensions.Logging;
using NodeCache.Fill;
using NodeCache.Oci;

namespace NodeCache.Peers;

/// <summary>
/// The agents that already hold a blob, as a fill's origin after the upstream, tried only while the upstream cannot answer:
/// every other ready member is asked at once whether it holds or receives the blob (a HEAD that starts no fetch), and the
/// fill continues from the first that does, from the byte already reached. So an image that any node holds still pulls on
/// every node while Harbor is down, whichever agent owns its blobs.
/// </summary>
internal sealed class PeerHolders(
    string registry, RepositoryName repository, PeerClient client, PeerMembership membership, PeerHealth health, PeerMetrics metrics, PeerOptions options, ILogger logger)
    : BlobOrigin
{
    private PeerOrigin? _holder;

    public override string Kind => PeerKind;

    public override string Name => _holder?.Name ?? "the agents holding it";

    public override bool OnlyInOutage => true;

    public override OriginPace? Pace => _holder?.Pace;

    public override async Task<OriginAnswer> OpenAsync(Digest digest, long offset, long? size, CancellationToken cancellationToken)
    {
        var members = membership.Members.Where(m => m.Ready && !membership.IsSelf(m) && !health.IsAvoided(m.Id)).ToList();
        var path = PeerPaths.Blob(registry, repository, digest, [], direct: false, heldOnly: true);
        using var asking = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = members.Select(member => HoldsAsync(member, path, asking.Token)).ToList();
        while (pending.Count > 0)
        {
            var answered = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(answered);
            if (await answered.ConfigureAwait(false) is { } holder)
            {
                await asking.CancelAsync().ConfigureAwait(false);
                logger.LogInformation("The upstream cannot answer for blob {Digest}: continuing from agent {Peer}, which holds it, at byte {Offset}", digest, holder.Id, offset);
                _holder = new PeerOrigin(holder, new PassedOver(), registry, repository, client, membership, health, metrics, options, logger, heldOnly: true);
                return await _holder.OpenAsync(digest, offset, size, cancellationToken).ConfigureAwait(false);
            }
        }
        return OriginAnswer.Missing(FallbackReason.NotFound, $"none of {members.Count} other agents holds {digest}");
    }

    public override void Received(long bytes) => _holder?.Received(bytes);

    public override void Left(FallbackReason reason, string detail) => _holder?.Left(reason, detail);

    public override void SentWrongBytes() => _holder?.SentWrongBytes();

    private async Task<PeerMember?> HoldsAsync(PeerMember member, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.SendAsync(HttpMethod.Head, member.Id, path, rangeStart: null, accept: null, cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK ? member : null;
        }
        catch (Exception ex) when (ex is PeerUnansweredException or OperationCanceledException or HttpRequestException)
        {
            return null;
        }
    }
}
