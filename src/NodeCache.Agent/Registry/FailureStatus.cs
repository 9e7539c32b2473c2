using NodeCache.Mirror;

namespace NodeCache.Agent.Registry;

/// <summary>
/// The HTTP status each way of failing is answered with: the one place that chooses them. Every status is 4xx or 5xx,
/// which makes containerd try its next host, and an upstream's refusal keeps the upstream's own status.
/// </summary>
internal static class FailureStatus
{
    public static int Of(MirrorError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Failure switch
        {
            MirrorFailure.Invalid => StatusCodes.Status400BadRequest,
            MirrorFailure.Unauthorized => StatusCodes.Status401Unauthorized,
            MirrorFailure.Denied => StatusCodes.Status403Forbidden,
            MirrorFailure.NotFound => StatusCodes.Status404NotFound,
            MirrorFailure.Unsupported => StatusCodes.Status405MethodNotAllowed,
            MirrorFailure.DeniedByPolicy => StatusCodes.Status412PreconditionFailed,
            MirrorFailure.Rejected => error.UpstreamStatus is >= 400 and < 500 and var status ? status : StatusCodes.Status400BadRequest,
            MirrorFailure.TooManyRequests => StatusCodes.Status429TooManyRequests,
            MirrorFailure.BadUpstream => StatusCodes.Status502BadGateway,
            MirrorFailure.Unavailable => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status500InternalServerError,
        };
    }
}
