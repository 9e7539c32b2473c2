using System.Diagnostics.Metrics;
using NodeCache.Upstream;

namespace NodeCache.Telemetry;

/// <summary>The mirror's instruments. Labels stay bounded: kind, result, source, registry and status class, never a digest or tag.</summary>
public sealed class MirrorMetrics : IDisposable
{
    public const string MeterName = "NodeCache";

    // A manifest HEAD to a near Harbor takes milliseconds; a token round trip plus a slow WAN registry takes seconds.
    private static readonly double[] UpstreamDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _servedBytes;
    private readonly Counter<long> _upstreamRequests;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _upstreamBytes;
    private readonly Counter<long> _fillFailures;
    private readonly UpDownCounter<long> _fillsInFlight;

    public MirrorMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("nodecache_requests", description: "Registry API requests answered, by kind (manifest, blob, tags, referrers) and result (hit, miss, stale, coalesced, error).");
        _servedBytes = _meter.CreateCounter<long>("nodecache_served_bytes", "By", "Blob and manifest bytes sent to clients, by source (cache, peer: from another agent, upstream).");
        _upstreamRequests = _meter.CreateCounter<long>("nodecache_upstream_requests", description: "Requests sent to upstream registries, by registry and status class (2xx, 4xx, 5xx, error).");
        _upstreamDuration = _meter.CreateHistogram("nodecache_upstream_request_duration", "s",
            "Upstream request latency to the final response's headers (token round trips, retries and failover included), by registry and status class.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = UpstreamDurationBuckets });
        _upstreamBytes = _meter.CreateCounter<long>("nodecache_upstream_bytes", "By", "Bytes received from upstream registries by fills, by registry.");
        _fillFailures = _meter.CreateCounter<long>("nodecache_fill_failures", description: "Fills abandoned, by reason (digest_mismatch, size_mismatch, upstream, disk).");
        _fillsInFlight = _meter.CreateUpDownCounter<long>("nodecache_fills_in_flight", description: "Blob fills from upstream in progress.");
    }

    public void Request(string kind, string result) =>
        _requests.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));

    public void Served(string source, long bytes) => _servedBytes.Add(bytes, new KeyValuePair<string, object?>("source", source));

    /// <summary>Counts an upstream answer and records its latency to the response headers, by registry and status class.</summary>
    public void UpstreamRequest(string registry, UpstreamResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.Outcome == UpstreamOutcome.NoUpstream)
        {
            // Nothing was sent.
            return;
        }
        KeyValuePair<string, object?>[] tags = [new("registry", registry), new("status_class", StatusClass((int?)response.StatusCode))];
        _upstreamRequests.Add(1, tags);
        _upstreamDuration.Record(response.Elapsed.TotalSeconds, tags);
    }

    public void UpstreamBytes(string registry, long bytes) => _upstreamBytes.Add(bytes, new KeyValuePair<string, object?>("registry", registry));

    public void FillFailed(string reason) => _fillFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void FillStarted() => _fillsInFlight.Add(1);

    public void FillEnded() => _fillsInFlight.Add(-1);

    public void Dispose() => _meter.Dispose();

    private static string StatusClass(int? status) => status switch
    {
        null => "error",
        < 300 => "2xx",
        < 400 => "3xx",
        < 500 => "4xx",
        _ => "5xx",
    };
}
