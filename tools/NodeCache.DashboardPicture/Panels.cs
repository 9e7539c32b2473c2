namespace NodeCache.DashboardPicture;

/// <summary>A dashboard panel: its title and unit as in charts/nodecache/dashboards/nodecache.json, and its query computed from scrapes.</summary>
/// <param name="Query">The value of each series at a scrape, given the scrapes so far.</param>
internal sealed record Panel(string Title, string Unit, Func<IReadOnlyList<Scrape>, int, IReadOnlyDictionary<string, double>> Query);

/// <summary>
/// The dashboard's ten panels, each query evaluated the way Prometheus would over the recorded scrapes: rate() as the
/// increase over a window divided by its length, histogram_quantile() by linear interpolation within the bucket.
/// </summary>
internal static class Panels
{
    // Prometheus' $__rate_interval for a 1 s scrape is a few scrapes; histograms need a wider one to hold a pull.
    private const int RateWindow = 5;
    private const int HistogramWindow = 20;

    public static IReadOnlyList<Panel> All { get; } =
    [
        new("Image pulls by source", "/min", (s, i) => Scale(RateBy(s, i, "nodecache_image_pulls_total", "source", HistogramWindow), 60)),
        new("Image pull duration", "s", (s, i) => QuantileBy(s, i, 0.9, "nodecache_image_pull_duration_seconds", "source", "p90 ")),
        new("Bytes served by source", "B/s", (s, i) => RateBy(s, i, "nodecache_served_bytes_total", "source", RateWindow)),
        new("Cache hit ratio", "%", (s, i) => HitRatio(s, i)),
        new("Requests by kind and result", "req/s", (s, i) => RateBy(s, i, "nodecache_requests_total", "kind", RateWindow, "result")),
        new("Upstream latency", "s", (s, i) => QuantileBy(s, i, 0.9, "nodecache_upstream_request_duration_seconds", "registry", "p90 ")),
        new("Upstream requests by status", "req/s", (s, i) => RateBy(s, i, "nodecache_upstream_requests_total", "registry", RateWindow, "status_class")),
        new("Upstream bytes", "B/s", (s, i) => RateBy(s, i, "nodecache_upstream_bytes_total", "registry", RateWindow)),
        new("Fills in flight", "", (s, i) => GaugeBy(s[i], "nodecache_fills_in_flight")),
        new("Fill failures by reason", "", (s, i) => RateBy(s, i, "nodecache_fill_failures_total", "reason", RateWindow)),
    ];

    // sum by (label[, second]) (rate(metric[window]))
    private static Dictionary<string, double> RateBy(IReadOnlyList<Scrape> scrapes, int index, string metric, string label, int window, string? second = null)
    {
        var from = scrapes[Math.Max(0, index - window)];
        var to = scrapes[index];
        var seconds = to.Seconds - from.Seconds;
        var result = new Dictionary<string, double>();
        if (seconds <= 0)
        {
            return result;
        }
        foreach (var (key, value) in Sums(to, metric, label, second))
        {
            result[key] = (value - Sums(from, metric, label, second).GetValueOrDefault(key)) / seconds;
        }
        return result;
    }

    private static Dictionary<string, double> Sums(Scrape scrape, string metric, string label, string? second) =>
        scrape.Metrics.Series(metric)
            .GroupBy(s => second is null ? s.Labels.GetValueOrDefault(label, "") : $"{s.Labels.GetValueOrDefault(label, "")} {s.Labels.GetValueOrDefault(second, "")}")
            .ToDictionary(g => g.Key, g => g.Sum(s => s.Value));

    private static Dictionary<string, double> Scale(Dictionary<string, double> series, double factor) =>
        series.ToDictionary(s => s.Key, s => s.Value * factor);

    private static Dictionary<string, double> GaugeBy(Scrape scrape, string metric) =>
        new() { ["agent"] = scrape.Metrics.Series(metric).Sum(s => s.Value) };

    // sum(rate(requests{result=~"hit|stale"})) / sum(rate(requests)), as a percentage; no requests, no point.
    private static Dictionary<string, double> HitRatio(IReadOnlyList<Scrape> scrapes, int index)
    {
        var rates = RateBy(scrapes, index, "nodecache_requests_total", "result", RateWindow);
        var all = rates.Values.Sum();
        return all > 0 ? new() { ["hits"] = 100 * (rates.GetValueOrDefault("hit") + rates.GetValueOrDefault("stale")) / all } : [];
    }

    // histogram_quantile(q, sum by (le, label) (rate(metric_bucket[window])))
    private static Dictionary<string, double> QuantileBy(IReadOnlyList<Scrape> scrapes, int index, double quantile, string histogram, string label, string prefix)
    {
        var from = scrapes[Math.Max(0, index - HistogramWindow)];
        var to = scrapes[index];
        var result = new Dictionary<string, double>();
        var buckets = to.Metrics.Series(histogram + "_bucket").ToList();
        foreach (var group in buckets.GroupBy(b => b.Labels.GetValueOrDefault(label, "")))
        {
            var increases = group
                .GroupBy(b => b.Labels["le"])
                .Select(g => (Le: g.Key == "+Inf" ? double.PositiveInfinity : double.Parse(g.Key, System.Globalization.CultureInfo.InvariantCulture),
                    Count: g.Sum(b => b.Value) - from.Metrics.Series(histogram + "_bucket")
                        .Where(p => p.Labels.GetValueOrDefault(label, "") == group.Key && p.Labels["le"] == g.Key).Sum(p => p.Value)))
                .OrderBy(b => b.Le)
                .ToList();
            var total = increases[^1].Count;
            if (total <= 0)
            {
                continue;
            }
            var rank = quantile * total;
            var lower = 0.0;
            var below = 0.0;
            foreach (var (le, count) in increases)
            {
                if (count >= rank)
                {
                    result[prefix + group.Key] = double.IsInfinity(le) ? lower : lower + (le - lower) * (rank - below) / Math.Max(count - below, 1e-9);
                    break;
                }
                lower = le;
                below = count;
            }
        }
        return result;
    }
}
