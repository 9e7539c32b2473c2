using System.Net;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>Why the mirror cannot answer a request, as the status and OCI error the client receives.</summary>
/// <param name="UpstreamBody">The upstream's own error body, passed through so the client sees the registry's words.</param>
public sealed record MirrorError(HttpStatusCode Status, string Code, string Message, string? UpstreamBody = null, string? UpstreamContentType = null)
{
    /// <summary>Maps an upstream failure to what containerd should see: any 4xx or 5xx makes it try the next host.</summary>
    public static MirrorError FromUpstream(UpstreamResponse response, string unknownCode, string what) => response.Outcome switch
    {
        UpstreamOutcome.NotFound => new(HttpStatusCode.NotFound, unknownCode, $"{what} is unknown to the upstream registry", response.ErrorBody, response.ErrorContentType),
        UpstreamOutcome.Denied => new(response.StatusCode ?? HttpStatusCode.Forbidden, response.StatusCode == HttpStatusCode.Unauthorized ? OciErrorCode.Unauthorized : OciErrorCode.Denied,
            $"the upstream registry denied access to {what}", response.ErrorBody, response.ErrorContentType),
        UpstreamOutcome.TooManyRequests => new(HttpStatusCode.TooManyRequests, OciErrorCode.TooManyRequests, $"the upstream registry is rate-limiting requests for {what}"),
        UpstreamOutcome.ClientError => new(response.StatusCode ?? HttpStatusCode.BadRequest, unknownCode, $"the upstream registry refused {what} ({(int?)response.StatusCode})", response.ErrorBody, response.ErrorContentType),
        UpstreamOutcome.NoUpstream => new(HttpStatusCode.NotFound, unknownCode, $"{what} is not in the cache, and {response.FailureReason}"),
        UpstreamOutcome.ServerError => new(HttpStatusCode.ServiceUnavailable, OciErrorCode.Unavailable, $"the upstream registry failed ({(int?)response.StatusCode}) for {what}"),
        _ => new(HttpStatusCode.ServiceUnavailable, OciErrorCode.Unavailable, $"the upstream registry is unreachable for {what}"),
    };
}
