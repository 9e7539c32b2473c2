namespace NodeCache.Upstream;

/// <summary>How <see cref="RegistryClient"/> connects, retries and trusts upstream registries.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>TCP connect plus TLS handshake. containerd waits for its mirror, so a dead upstream must fail fast.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// From sending a request to its response headers (and for reading error and token bodies, not blob bodies).
    /// Generous: a Harbor proxy-cache fetches from its own upstream before it answers.
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries per endpoint after the first try, on no answer, 5xx and 429.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>First backoff delay, doubled per retry. Small: a miss we cannot serve must fail fast so containerd moves on.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>PEM bundle of CA certificates trusted in addition to the system roots.</summary>
    public string? CaBundlePath { get; init; }

    public string UserAgent { get; init; } = "nodecache";
}
