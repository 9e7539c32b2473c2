using System.Diagnostics;
using System.Diagnostics.Metrics;
using NodeCache.Telemetry;

namespace NodeCache.Pulls;

/// <summary>Image pulls as the agent groups them, by registry and source (cache, upstream, mixed).</summary>
public sealed class PullMetrics : IDisposable
{
    // From a warm pull of a small image (tens of milliseconds) to a cold pull of a large one over a slow WAN (minutes).
    private static readonly double[] DurationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly Meter _meter;
    private readonly Counter<long> _pulls;
    private readonly Counter<long> _bytes;
    private readonly Histogram<double> _duration;

    public PullMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MirrorMetrics.MeterName) ?? new Meter(MirrorMetrics.MeterName);
        _pulls = _meter.CreateCounter<long>("nodecache_image_pulls", description: "Image pulls served (a client's requests for one repository close together), by registry and source.");
        _bytes = _meter.CreateCounter<long>("nodecache_image_pull_bytes", "By", "Bytes sent to clients by image pulls, by registry and source.");
        _duration = _meter.CreateHistogram("nodecache_image_pull_duration", "s", "Image pull duration: first request to last response, by registry and source.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>
    /// Exports the pulls and their bytes at 0 for each of <paramref name="registries"/> and every source, so that the first
    /// pull after a start shows in rate() (see <see cref="MirrorMetrics.ExportKnownSeries"/>). Call it once the exporter listens.
    /// </summary>
    public void ExportKnownSeries(IEnumerable<string> registries)
    {
        ArgumentNullException.ThrowIfNull(registries);
        foreach (var registry in registries)
        {
            foreach (var source in (PullSource[])[PullSource.Cache, PullSource.Upstream, PullSource.Mixed])
            {
                var tags = new TagList { { "registry", registry }, { "source", Label(source) } };
                _pulls.Add(0, tags);
                _bytes.Add(0, tags);
            }
        }
    }

    public void Pulled(string registry, PullSource source, TimeSpan duration, long bytes)
    {
        var tags = new TagList { { "registry", registry }, { "source", Label(source) } };
        _pulls.Add(1, tags);
        _bytes.Add(bytes, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    public void Dispose() => _meter.Dispose();

    private static string Label(PullSource source) => source switch
    {
        PullSource.Cache => "cache",
        PullSource.Upstream => "upstream",
        _ => "mixed",
    };
}
