using Microsoft.Extensions.Logging;
using NodeCache.Concurrency;
using NodeCache.Oci;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>
/// Reads tag lists and referrers through to the upstream. An answer is kept for the tag TTL, so a client that lists a
/// repository several times in a row asks the upstream once, and the last known answer is served while the upstream is
/// unreachable, failing or rate-limiting, as cached tags are. A denial or a 404 is passed on as the upstream gave it and
/// forgets what was kept: a listing is never served against the upstream's word. The cache holds no listing on disk:
/// unlike a manifest, a listing is not content the node needs to start a pod.
/// </summary>
public sealed class ListingResolver(RegistryClient upstream, MirrorMetrics metrics, MirrorOptions options, TimeProvider time, ILogger logger)
{
    private const string FiltersAppliedHeader = "OCI-Filters-Applied";

    private readonly ListingMemory _memory = new();
    private readonly SingleFlight<string, ListingAnswer> _fetches = new();

    /// <summary>The listing <paramref name="request"/> asks for in <paramref name="repository"/>, as the route's upstream answers it.</summary>
    public async ValueTask<ListingAnswer> ResolveAsync(UpstreamRoute route, RepositoryName repository, ListingRequest request, CancellationToken cancellationToken)
    {
        var key = $"{route.Registry}/{repository}|{request.Kind}|{request.Subject}|{request.EncodedQuery}|{request.Accept}";
        if (_memory.TryGet(key, out var kept) && time.GetUtcNow() - kept.FetchedAt < options.TagTtl)
        {
            return ListingAnswer.Found(kept.Listing, ListingSource.Kept);
        }
        return await _fetches.RunAsync(key, () => FetchAsync(route, repository, request, key), cancellationToken).ConfigureAwait(false);
    }

    private async Task<ListingAnswer> FetchAsync(UpstreamRoute route, RepositoryName repository, ListingRequest request, string key)
    {
        var what = request.Kind == RegistryObject.TagList ? $"the tags of {repository}" : $"the referrers of {repository}@{request.Subject}";
        // Not the client's token: others may be waiting on this fetch.
        using var response = await upstream.SendAsync(
            new UpstreamRequest(route, HttpMethod.Get, repository, request.Kind, request.Subject, request.Accept, Query: request.EncodedQuery),
            CancellationToken.None).ConfigureAwait(false);
        metrics.UpstreamRequest(route.Registry, response);
        if (response.Outcome != UpstreamOutcome.Success || response.Message is not { } message)
        {
            var error = MirrorError.FromUpstream(response, request.Kind == RegistryObject.TagList ? OciErrorCode.NameUnknown : OciErrorCode.ManifestUnknown, what);
            if (response.Outcome is UpstreamOutcome.Unreachable or UpstreamOutcome.ServerError or UpstreamOutcome.TooManyRequests)
            {
                if (_memory.TryGet(key, out var kept))
                {
                    logger.LogWarning("Serving {What} as last known: upstream {Outcome} ({Reason})", what, response.Outcome, response.FailureReason);
                    return ListingAnswer.Found(kept.Listing, ListingSource.Stale);
                }
                return ListingAnswer.Failed(error);
            }
            _memory.Forget(key);
            return ListingAnswer.Failed(error);
        }
        byte[] body;
        try
        {
            var (bytes, complete) = await BoundedBody.ReadAsync(message.Content, MediaTypes.MaxManifestSize, upstream.ResponseTimeout, CancellationToken.None).ConfigureAwait(false);
            if (!complete)
            {
                return ListingAnswer.Failed(new MirrorError(MirrorFailure.BadUpstream, OciErrorCode.Unknown, $"the upstream sent more than {MediaTypes.MaxManifestSize} bytes for {what}"));
            }
            body = bytes;
        }
        catch (Exception ex) when (UpstreamFailure.IsNoAnswer(ex, CancellationToken.None))
        {
            return ListingAnswer.Failed(new MirrorError(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"could not read {what} from upstream: {ex.Message}"));
        }
        var link = ListingLink.Rewrite(message.Headers.TryGetValues("Link", out var links) ? links.FirstOrDefault() : null, response.Endpoint!, repository);
        var contentType = message.Content.Headers.ContentType?.ToString() ?? "application/json";
        if (request.Kind == RegistryObject.TagList && TagListPage.TryServe(body, repository, request, upstreamPaged: link is not null, out var page, out var next))
        {
            body = page;
            link ??= next;
        }
        var filters = message.Headers.TryGetValues(FiltersAppliedHeader, out var applied) ? string.Join(',', applied) : null;
        var listing = new Listing(body, contentType, link, filters);
        _memory.Remember(key, listing, time.GetUtcNow());
        return ListingAnswer.Found(listing, ListingSource.Upstream);
    }
}
