using System.Diagnostics.Metrics;
using NodeCache.Upstream;

namespace NodeCache.Telemetry;

/// <summary>The mirror's instruments. Labels stay bounded: kind, result, source, registry and status class, never a digest or tag.</summary>
public sealed class MirrorMetrics : IDisposable
{
    public const string MeterName = "NodeCache";

    // A manifest HEAD to a near Harbor takes milliseconds; a token round trip plus a slow WAN registry takes seconds.
    private static readonly double[] UpstreamDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    // The label of each FillFailureReason, in its order.
    private static readonly string[] FailureReasons = ["digest_mismatch", "size_mismatch", "upstream", "disk"];

    // The label values that are known before anything happens (see ExportKnownSeries).
    private static readonly (string Kind, string[] Results)[] RequestResults =
        [
            ("manifest", ["hit", "miss", "stale", "error"]), ("blob", ["hit", "miss", "coalesced", "error"]),
            ("tags", ["hit", "miss", "stale", "error"]), ("referrers", ["hit", "miss", "stale", "error"]),
        ];
    private static readonly string[] Sources = ["cache", "peer", "upstream"];
    private static readonly string[] StatusClasses = ["2xx", "3xx", "4xx", "5xx", "error"];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _servedBytes;
    private readonly Counter<long> _upstreamRequests;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _upstreamBytes;
    private readonly long[] _fillFailures = new long[FailureReasons.Length];
    private long _fillsInFlight;

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
        // Observed rather than added to, so that every reason is exported from the first scrape on, at 0 until a fill fails
        // that way: a counter that first appears at 1 has no increase() in Prometheus, and the first digest mismatch would
        // never fire NodeCacheDigestMismatch. (A 0 added at start is lost when it comes before the exporter listens.)
        _meter.CreateObservableCounter("nodecache_fill_failures",
            () => FailureReasons.Select((reason, i) => new Measurement<long>(Volatile.Read(ref _fillFailures[i]), new KeyValuePair<string, object?>("reason", reason))),
            description: "Fills abandoned, by reason (digest_mismatch, size_mismatch, upstream, disk).");
        _meter.CreateObservableUpDownCounter("nodecache_fills_in_flight", () => Volatile.Read(ref _fillsInFlight), description: "Blob fills from upstream in progress.");
    }

    /// <summary>
    /// Exports at 0 every series whose labels are known before anything happens: requests by kind and result, bytes served
    /// by source, and for each of <paramref name="registries"/> the upstream requests by status class and the upstream
    /// bytes. Prometheus sees no increase in a series that first appears with its first event, so without this the first
    /// of each after a start would be missing from every rate() and increase(). Call it once the exporter listens: a 0
    /// added before that is lost.
    /// </summary>
    public void ExportKnownSeries(IEnumerable<string> registries)
    {
        ArgumentNullException.ThrowIfNull(registries);
        foreach (var (kind, results) in RequestResults)
        {
            foreach (var result in results)
            {
                _requests.Add(0, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));
            }
        }
        foreach (var source in Sources)
        {
            _servedBytes.Add(0, new KeyValuePair<string, object?>("source", source));
        }
        foreach (var registry in registries)
        {
            foreach (var status in StatusClasses)
            {
                _upstreamRequests.Add(0, new KeyValuePair<string, object?>("registry", registry), new KeyValuePair<string, object?>("status_class", status));
            }
            _upstreamBytes.Add(0, new KeyValuePair<string, object?>("registry", registry));
        }
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

    public void FillFailed(FillFailureReason reason) => Interlocked.Increment(ref _fillFailures[(int)reason]);

    public void FillStarted() => Interlocked.Increment(ref _fillsInFlight);

    public void FillEnded() => Interlocked.Decrement(ref _fillsInFlight);

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
