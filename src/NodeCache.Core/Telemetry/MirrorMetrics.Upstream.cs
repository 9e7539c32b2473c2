using System.Diagnostics.Metrics;
using NodeCache.Upstream;

namespace NodeCache.Telemetry;

/// <summary>Upstream latency, beside the upstream request count.</summary>
public sealed partial class MirrorMetrics
{
    // A manifest HEAD to a near Harbor takes milliseconds; a token round trip plus a slow WAN registry takes seconds.
    private static readonly double[] UpstreamDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private Histogram<double>? _upstreamDuration;
    private object? _upstreamDurationGate;

    /// <summary>Counts an upstream answer and records its latency to the response headers, by registry and status class.</summary>
    public void UpstreamRequest(string registry, UpstreamResponse response)
    {
        var status = (int?)response.StatusCode;
        UpstreamRequest(registry, status);
        var histogram = LazyInitializer.EnsureInitialized(ref _upstreamDuration, ref _upstreamDurationGate, () => _meter.CreateHistogram("nodecache_upstream_request_duration", "s",
            "Upstream request latency to the final response's headers (token round trips, retries and failover included), by registry and status class.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = UpstreamDurationBuckets }));
        histogram.Record(response.Elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("registry", registry), new KeyValuePair<string, object?>("status_class", StatusClass(status)));
    }
}
