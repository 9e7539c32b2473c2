using System.Text.RegularExpressions;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Docs;

/// <summary>
/// docs/metrics.md names every instrument the agent creates, as Prometheus shows it (the exporter adds the unit and
/// <c>_total</c> to the instrument's name): a metric added without a line there fails here.
/// </summary>
public sealed partial class MetricsReferenceTests
{
    [Fact]
    public void The_metrics_page_names_every_instrument_the_source_creates()
    {
        var root = Helm.RepositoryRoot;
        var instruments = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(file => Instrument().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        var page = File.ReadAllText(Path.Combine(root, "docs", "metrics.md"));
        var documented = DocumentedMetric().Matches(page).Select(m => m.Groups[1].Value).ToList();

        Assert.True(instruments.Count >= 20, $"found only {instruments.Count} instruments in src/");
        var missing = instruments.Where(name => !documented.Any(metric => metric == name || metric.StartsWith(name + "_", StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, "instruments docs/metrics.md does not name: " + string.Join(", ", missing));
    }

    // _meter.CreateCounter<long>("nodecache_requests", ...), CreateObservableGauge("nodecache_disk_full", ...)
    [GeneratedRegex(@"\bCreate[A-Za-z]+(?:<[^>]+>)?\(\s*""(nodecache_[a-z0-9_]+)""")]
    private static partial Regex Instrument();

    // `nodecache_requests_total` in a table cell.
    [GeneratedRegex(@"`(nodecache_[a-z0-9_]+)`")]
    private static partial Regex DocumentedMetric();
}
