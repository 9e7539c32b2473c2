namespace NodeCache.Upstream;

/// <summary>How an upstream request ended, as a value (expected failures are not exceptions).</summary>
public enum UpstreamOutcome
{
    Success,
    NotFound,

    /// <summary>401 or 403 after the credentials or token the registry asked for were tried.</summary>
    Denied,

    /// <summary>Any other 4xx.</summary>
    ClientError,
    TooManyRequests,

    /// <summary>5xx, or an answer no registry should give (a redirect loop, a token response without a token).</summary>
    ServerError,

    /// <summary>No answer: connect error, timeout, TLS failure.</summary>
    Unreachable,

    /// <summary>Nothing was sent: no upstream is configured for the registry, whose content only the cache holds (an air gap).</summary>
    NoUpstream,
}
