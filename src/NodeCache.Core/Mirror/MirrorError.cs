using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>Why the mirror cannot answer a request: the domain's reason, and the OCI error the client receives.</summary>
/// <param name="UpstreamStatus">The upstream's own status, when the upstream refused the request.</param>
/// <param name="UpstreamBody">The upstream's own error body, passed through so the client sees the registry's words.</param>
public sealed record MirrorError(MirrorFailure Failure, string Code, string Message, int? UpstreamStatus = null, string? UpstreamBody = null, string? UpstreamContentType = null)
{
    /// <summary>Maps an upstream failure to what containerd should see: any 4xx or 5xx makes it try the next host.</summary>
    public static MirrorError FromUpstream(UpstreamResponse response, string unknownCode, string what)
    {
        ArgumentNullException.ThrowIfNull(response);
        var status = (int?)response.StatusCode;
        return response.Outcome switch
        {
            UpstreamOutcome.NotFound => new(MirrorFailure.NotFound, unknownCode, $"{what} is unknown to the upstream registry", status, response.ErrorBody, response.ErrorContentType),
            UpstreamOutcome.Denied => new(status == 401 ? MirrorFailure.Unauthorized : MirrorFailure.Denied, status == 401 ? OciErrorCode.Unauthorized : OciErrorCode.Denied,
                $"the upstream registry denied access to {what}", status, response.ErrorBody, response.ErrorContentType),
            UpstreamOutcome.TooManyRequests => new(MirrorFailure.TooManyRequests, OciErrorCode.TooManyRequests, $"the upstream registry is rate-limiting requests for {what}"),
            UpstreamOutcome.ClientError => new(Refusal(status), unknownCode, $"the upstream registry refused {what} ({status})", status, response.ErrorBody, response.ErrorContentType),
            UpstreamOutcome.NoUpstream => new(MirrorFailure.NotFound, unknownCode, $"{what} is not in the cache, and {response.FailureReason}"),
            UpstreamOutcome.ServerError => new(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"the upstream registry failed ({status}) for {what}"),
            // The reason names the upstream URL (never its credentials or query) and why it gave no answer.
            _ => new(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"the upstream registry is unreachable for {what}: {response.FailureReason}"),
        };
    }

    /// <summary>An upstream's refusal, remembered as its status, told again as it was first told.</summary>
    public static MirrorError FromUpstreamRefusal(int status, string code, string message, string? body, string? contentType) =>
        new(Refusal(status), code, message, status, body, contentType);

    private static MirrorFailure Refusal(int? status) => status switch
    {
        401 => MirrorFailure.Unauthorized,
        403 => MirrorFailure.Denied,
        404 => MirrorFailure.NotFound,
        412 => MirrorFailure.DeniedByPolicy,
        _ => MirrorFailure.Rejected,
    };
}
