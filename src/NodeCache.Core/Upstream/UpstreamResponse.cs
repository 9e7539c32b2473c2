using System.Net;

namespace NodeCache.Upstream;

/// <summary>The answer to an <see cref="UpstreamRequest"/>; dispose it to release the connection.</summary>
public sealed class UpstreamResponse : IDisposable
{
    internal UpstreamResponse(
        UpstreamOutcome outcome,
        HttpStatusCode? statusCode,
        HttpResponseMessage? message,
        UpstreamEndpoint? endpoint,
        string? failureReason,
        string? errorBody = null,
        string? errorContentType = null,
        TimeSpan? retryAfter = null)
    {
        Outcome = outcome;
        StatusCode = statusCode;
        Message = message;
        Endpoint = endpoint;
        FailureReason = failureReason;
        ErrorBody = errorBody;
        ErrorContentType = errorContentType;
        RetryAfter = retryAfter;
    }

    public UpstreamOutcome Outcome { get; }

    /// <summary>The final status; null when <see cref="UpstreamOutcome.Unreachable"/>.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Only on success: headers read, body not yet consumed; the caller reads <c>Content</c>.</summary>
    public HttpResponseMessage? Message { get; }

    /// <summary>The upstream's error body (capped at 16 KiB), to pass through to the client.</summary>
    public string? ErrorBody { get; }

    public string? ErrorContentType { get; }

    /// <summary>The endpoint that gave this answer (the last one tried).</summary>
    public UpstreamEndpoint? Endpoint { get; }

    /// <summary>One line for logs, never containing credentials.</summary>
    public string? FailureReason { get; }

    /// <summary>From sending the request to the final answer's headers, retries and failover included.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>The upstream's Retry-After on a 429 or 5xx, when it gave one.</summary>
    internal TimeSpan? RetryAfter { get; }

    internal static UpstreamResponse Unreachable(UpstreamEndpoint endpoint, string reason) =>
        new(UpstreamOutcome.Unreachable, null, null, endpoint, reason);

    internal static UpstreamResponse NoUpstream(string registry) =>
        new(UpstreamOutcome.NoUpstream, null, null, null, $"no upstream is configured for registry '{registry}'");

    public void Dispose() => Message?.Dispose();
}
