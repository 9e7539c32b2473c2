namespace NodeCache.Upstream;

/// <summary>When one endpoint is tried again, and after how long.</summary>
internal sealed class RetryPolicy(RegistryClientOptions options, TimeProvider time)
{
    /// <summary>A longer Retry-After is not worth waiting for: containerd is waiting on us and would rather move on.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>True when the answer is a passing failure (no answer, 5xx, 429) and retries are left.</summary>
    public bool ShouldRetry(UpstreamResponse response, int retriesDone, out TimeSpan delay)
    {
        delay = default;
        if (retriesDone >= options.MaxRetries
            || response.Outcome is not (UpstreamOutcome.Unreachable or UpstreamOutcome.ServerError or UpstreamOutcome.TooManyRequests))
        {
            return false;
        }
        if (response.RetryAfter is { } retryAfter)
        {
            delay = retryAfter;
            return retryAfter <= MaxRetryAfter;
        }
        delay = Backoff(retriesDone);
        return true;
    }

    /// <summary>Base delay doubled per retry, half of it random so that many nodes missing at once do not retry in step.</summary>
    public TimeSpan Backoff(int retriesDone)
    {
        var full = options.RetryBaseDelay * Math.Pow(2, Math.Min(retriesDone, 16));
        return full / 2 + full / 2 * Random.Shared.NextDouble();
    }

    /// <summary>The Retry-After header as a delay from now, in either form (seconds or HTTP date); null without one.</summary>
    public TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        TimeSpan? delay = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow(),
            _ => null,
        };
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }
}
