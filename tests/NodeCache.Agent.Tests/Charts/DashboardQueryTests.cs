using NodeCache.Testing;
using NodeCache.Testing.Prometheus;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>
/// The chart's Grafana dashboard against a real Prometheus that scraped two real agents with peering on during cold and
/// warm containerd pulls, the last one through the second agent from the first: every panel's queries are sent as
/// Grafana sends them (variables expanded, over the pulls' time range) and must come back with data.
/// </summary>
public sealed class DashboardQueryTests(ScrapedPullsFixture fixture) : IClassFixture<ScrapedPullsFixture>
{
    private static readonly GrafanaDashboard Dashboard = GrafanaDashboard.Load(GrafanaDashboard.ChartDashboardPath);

    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);

    public static TheoryData<string> Panels => [.. Dashboard.Panels.Select(p => p.Title)];

    private ScrapedPulls Pulls => fixture.Pulls;

    [Theory]
    [MemberData(nameof(Panels))]
    public async Task Every_query_of_the_panel_returns_data_for_all_nodes_and_for_the_node(string title)
    {
        var panel = Dashboard.Panels.Single(p => p.Title == title);
        Assert.NotEmpty(panel.Queries);

        // "All" sends the variable's allValue; one node sends its name. (node-b's single pull is the first event of its
        // histograms, which have no rate() for it: the peer panel's test reads node-b.)
        foreach (var node in new[] { ".*", ScrapedPulls.NodeName })
        {
            foreach (var query in panel.Queries)
            {
                var series = await QueryAsync(query, node);

                Assert.True(series.Any(s => s.HasFiniteSample),
                    $"{title}: {query.Resolve(Variables(node))} returned no data over the pulls ({series.Count} series: {string.Join("; ", series)})");
            }
        }
    }

    [Fact]
    public async Task The_node_variable_lists_the_scraped_nodes_and_a_query_for_another_node_is_empty()
    {
        var variable = Assert.Single(Dashboard.Variables, v => v.Name == "node");
        var (match, label) = GrafanaDashboard.LabelValuesQuery(variable.Query) ?? throw new InvalidOperationException($"not a label_values() query: {variable.Query}");

        var nodes = await Pulls.Prometheus.Api.LabelValuesAsync(label, match);

        Assert.Equal([ScrapedPulls.NodeName, ScrapedPulls.PeerNodeName], nodes);
        var pulls = Dashboard.Panels.Single(p => p.Title == "Image pulls by source").Queries[0];
        Assert.Empty(await QueryAsync(pulls, "node-c"));
    }

    [Fact]
    public async Task The_panels_show_the_cold_pulls_from_upstream_the_warm_pulls_from_the_cache_and_the_pull_from_a_peer()
    {
        var pulls = await LegendsAsync("Image pulls by source");
        var served = await LegendsAsync("Bytes served by source");
        var hitRatio = await QueryAsync(Dashboard.Panels.Single(p => p.Title == "Cache hit ratio").Queries[0], ".*");

        Assert.Contains("upstream", pulls);
        Assert.Contains("cache", pulls);
        Assert.Contains("upstream", served);
        Assert.Contains("cache", served);
        Assert.Contains("peer", served);
        // The warm pulls are all hits for a moment; the ratio is a fraction (percentunit), never a percentage.
        var peak = hitRatio.SelectMany(s => s.Samples).Where(s => double.IsFinite(s.Value)).Max(s => s.Value);
        Assert.InRange(peak, 0.5, 1);
    }

    [Fact]
    public async Task The_peer_panel_shows_node_b_taking_its_pull_from_node_a_and_nothing_from_harbor()
    {
        const string Title = "Harbor egress against peer traffic";

        var nodeB = await PeaksAsync(Title, ScrapedPulls.PeerNodeName);
        var cluster = await PeaksAsync(Title, ".*");

        // Each line's highest point over the pulls, in bytes per second; NaN for a line the panel did not draw.
        Assert.True(nodeB.GetValueOrDefault("from other agents", double.NaN) > 0, Describe(nodeB));
        Assert.Equal(0, nodeB.GetValueOrDefault("from Harbor (upstream)", double.NaN));
        Assert.Equal(0, nodeB.GetValueOrDefault($"{ScrapedPulls.PeerNodeName} sent to other agents", double.NaN));
        Assert.True(cluster.GetValueOrDefault("from Harbor (upstream)", double.NaN) > 0, Describe(cluster));
        Assert.True(cluster.GetValueOrDefault($"{ScrapedPulls.NodeName} sent to other agents", double.NaN) > 0, Describe(cluster));
        Assert.Equal(0, cluster.GetValueOrDefault($"{ScrapedPulls.PeerNodeName} sent to other agents", double.NaN));
    }

    [Fact]
    public async Task The_first_pull_after_the_agent_started_shows_in_the_rates()
    {
        var first = Pulls.Steps[0];
        // The pull's increase is in the rate from its first scrape until the rate interval has passed over it.
        var from = first.Start.ToUnixTimeMilliseconds() / 1000.0;
        var to = (first.End + 4 * Pulls.ScrapeInterval + Step).ToUnixTimeMilliseconds() / 1000.0;

        foreach (var (title, legend) in new[] { ("Image pulls by source", "upstream"), ("Upstream bytes", ScrapedPulls.Harbor), ("Requests by kind and result", "blob miss") })
        {
            var query = Dashboard.Panels.Single(p => p.Title == title).Queries[0];
            var line = Assert.Single(await QueryAsync(query, ".*"), s => query.Legend(s.Labels) == legend);

            Assert.True(line.Samples.Any(p => p.Time >= from && p.Time <= to && p.Value > 0), $"{title}: {first.Name} does not show in {legend}: {line}");
        }
    }

    [Fact]
    public async Task The_agents_metrics_after_the_pulls_pass_promtool_check_metrics()
    {
        using var http = new HttpClient();
        var exposition = await http.GetStringAsync(new Uri(Pulls.MetricsUri, "metrics"));

        var check = await Promtool.CheckMetricsAsync(exposition);

        Assert.True(check.Succeeded, $"{check.Stdout}{check.Stderr}\n--- /metrics\n{exposition}");
        Assert.Contains("nodecache_image_pull_duration_seconds_bucket", exposition, StringComparison.Ordinal);
    }

    // Each legend's highest finite value over the pulls.
    private async Task<Dictionary<string, double>> PeaksAsync(string title, string node)
    {
        var peaks = new Dictionary<string, double>();
        foreach (var query in Dashboard.Panels.Single(p => p.Title == title).Queries)
        {
            foreach (var series in await QueryAsync(query, node))
            {
                peaks[query.Legend(series.Labels)] = series.Samples.Where(s => double.IsFinite(s.Value)).Select(s => s.Value).DefaultIfEmpty(double.NaN).Max();
            }
        }
        return peaks;
    }

    private static string Describe(Dictionary<string, double> peaks) => string.Join("; ", peaks.Select(p => $"{p.Key}: {p.Value}"));

    private async Task<IReadOnlyList<string>> LegendsAsync(string title)
    {
        var query = Dashboard.Panels.Single(p => p.Title == title).Queries[0];
        var series = await QueryAsync(query, ".*");
        return [.. series.Where(s => s.Samples.Any(p => p.Value > 0)).Select(s => query.Legend(s.Labels))];
    }

    private Task<IReadOnlyList<PrometheusSeries>> QueryAsync(DashboardQuery query, string node) =>
        Pulls.Prometheus.Api.QueryRangeAsync(query.Resolve(Variables(node)), Pulls.Started, Pulls.Finished, Step);

    private Dictionary<string, string> Variables(string node) => new()
    {
        ["node"] = node,
        ["__rate_interval"] = GrafanaDashboard.RateInterval(Pulls.ScrapeInterval, Step),
    };
}
