using System.Net;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Fill;

/// <summary>The upstream registry as an origin: a blob GET along the route, resumed with a Range when the body breaks.</summary>
internal sealed class UpstreamOrigin(RegistryClient upstream, UpstreamRoute route, RepositoryName repository, PullIdentity? identity, MirrorMetrics metrics, CancellationToken stopping)
    : BlobOrigin
{
    // A connection that breaks twice in one blob is more likely an upstream that is going down than bad luck.
    private const int ResumeLimit = 2;

    public override string Kind => UpstreamKind;

    public override string Name => route.Registry;

    public override bool Patient => true;

    public override int MaxResumes => ResumeLimit;

    public override async Task<OriginAnswer> OpenAsync(Digest digest, long offset, long? size, CancellationToken cancellationToken)
    {
        UpstreamResponse? response = null;
        try
        {
            // Not the caller's token alone: the fill goes on for others when the request that started it goes away.
            response = await upstream.SendAsync(
                new UpstreamRequest(route, HttpMethod.Get, repository, RegistryObject.Blob, digest.ToString(), RangeStart: offset == 0 ? null : offset, Identity: identity),
                stopping).ConfigureAwait(false);
            metrics.UpstreamRequest(route.Registry, response);
            if (response.Outcome != UpstreamOutcome.Success || response.Message is null)
            {
                var reason = response.Outcome == UpstreamOutcome.Unreachable ? FallbackReason.Unreachable : FallbackReason.Failed;
                return OriginAnswer.Missing(reason, $"{response.Outcome} ({response.FailureReason})", MirrorError.FromUpstream(response, OciErrorCode.BlobUnknown, $"blob {digest}"));
            }
            var content = response.Message.Content;
            if (offset == 0)
            {
                return Found(content, content.Headers.ContentLength, ref response);
            }
            var range = content.Headers.ContentRange;
            if (response.StatusCode == HttpStatusCode.PartialContent && range is { From: { } from, To: { } to, Length: { } length } && from == offset && to == size - 1 && length == size)
            {
                return Found(content, size, ref response);
            }
            return OriginAnswer.Missing(FallbackReason.Failed, $"the upstream did not resume at byte {offset}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return OriginAnswer.Missing(FallbackReason.Failed, ex.Message,
                new MirrorError(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"could not fetch blob {digest}: {ex.Message}"));
        }
        finally
        {
            response?.Dispose();
        }
    }

    public override void Received(long bytes) => metrics.UpstreamBytes(route.Registry, bytes);

    // The answer takes the response over: it is disposed with the answer, not here.
    private static OriginAnswer Found(HttpContent content, long? size, ref UpstreamResponse? response)
    {
        var mediaType = content.Headers.ContentType?.MediaType;
        var body = content.ReadAsStream();
        var owner = response;
        response = null;
        return OriginAnswer.Found(body, size, mediaType, owner);
    }
}
