using System.Diagnostics.Metrics;

namespace NodeCache.Telemetry;

/// <summary>Prefetch's instruments, on the mirror's meter. Labels: result and outcome only, never an image.</summary>
public sealed class PrefetchMetrics : IDisposable
{
    // Lead times span a pull that was a few milliseconds ahead to a rollout prepared minutes before.
    private static readonly double[] LeadTimeBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _images;
    private readonly Counter<long> _bytes;
    private readonly Histogram<double> _leadTime;
    private Func<int> _depth = () => 0;

    public PrefetchMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MirrorMetrics.MeterName) ?? new Meter(MirrorMetrics.MeterName);
        _images = _meter.CreateCounter<long>("nodecache_prefetched_images", description: "Images prefetch finished with, by result (cached, failed, cancelled).");
        _bytes = _meter.CreateCounter<long>("nodecache_prefetched_bytes", "By", "Blob bytes fetched from upstream by fills that prefetch started.");
        _leadTime = _meter.CreateHistogram("nodecache_prefetch_lead_time", "s",
            "How long before the kubelet's first request an image was cached (outcome=ahead), or how long after it (outcome=behind).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LeadTimeBuckets });
        _meter.CreateObservableGauge("nodecache_prefetch_queue_depth", () => _depth(), description: "Images waiting for prefetch or being prefetched.");
    }

    /// <summary>Where the queue depth gauge reads from.</summary>
    public void ObserveDepth(Func<int> depth) => _depth = depth;

    public void Image(string result) => _images.Add(1, new KeyValuePair<string, object?>("result", result));

    public void Bytes(long bytes) => _bytes.Add(bytes);

    /// <summary>Records a lead time: positive when the image was cached before the kubelet asked.</summary>
    public void LeadTime(TimeSpan lead) =>
        _leadTime.Record(Math.Abs(lead.TotalSeconds), new KeyValuePair<string, object?>("outcome", lead >= TimeSpan.Zero ? "ahead" : "behind"));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
