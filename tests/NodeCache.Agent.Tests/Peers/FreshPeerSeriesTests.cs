using System.Text.RegularExpressions;
using NodeCache.Peers;
using NodeCache.Testing;
using NodeCache.Testing.Prometheus;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>
/// What a Prometheus scraping a freshly started agent sees of sharing: with peering on, every peer series at 0 before
/// anything was asked of a peer, so that the first request, fall-back or byte shows in rate() and increase(); with
/// peering off, no peer series at all.
/// </summary>
public sealed partial class FreshPeerSeriesTests
{
    [Fact]
    public async Task With_peering_on_every_result_reason_byte_count_and_upload_is_exported_at_zero_before_any_pull()
    {
        var metrics = await FreshPeeringAgentMetricsAsync();

        // As docs/metrics.md lists them, which is what dashboards and alerts are written against.
        Assert.Equal(Documented(PeerMetrics.Requests, "result"), Labels(metrics, PeerMetrics.Requests, "result"));
        Assert.Equal(Documented(PeerMetrics.Answers, "result"), Labels(metrics, PeerMetrics.Answers, "result"));
        Assert.Equal(Documented(PeerMetrics.Fallbacks, "reason"), Labels(metrics, PeerMetrics.Fallbacks, "reason"));
        foreach (var name in new[] { PeerMetrics.Requests, PeerMetrics.Answers, PeerMetrics.Fallbacks, PeerMetrics.ReceivedBytes, PeerMetrics.SentBytes, PeerMetrics.UploadsInFlight })
        {
            Assert.NotEmpty(metrics.Series(name));
            Assert.All(metrics.Series(name), s => Assert.True(s.Value == 0, $"{name} {string.Join(",", s.Labels)} is {s.Value}"));
        }
        // The one member is the agent itself.
        Assert.Equal(1, metrics.Value(PeerMetrics.Members, AgentMetrics.Labels(("state", "ready"))));
        Assert.Equal(0, metrics.Value(PeerMetrics.Members, AgentMetrics.Labels(("state", "not_ready"))));
        Assert.Equal(0, metrics.Value(PeerMetrics.Members, AgentMetrics.Labels(("state", "avoided"))));
        Assert.Equal(0, metrics.Value("nodecache_served_bytes_total", AgentMetrics.Labels(("source", "peer"))));
        // The peer panel and any alert on sharing find their series from the first scrape on.
        var queried = QueriedPeerSeries();
        Assert.NotEmpty(queried);
        Assert.All(queried, name => Assert.Contains("\n" + name, metrics.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_result_a_request_to_a_peer_or_an_answer_to_one_can_end_with_is_exported_at_zero()
    {
        var metrics = await FreshPeeringAgentMetricsAsync();

        // A request's result is a PeerRequestResult and an answer's a PeerAnswerResult: each has a series of its own, there
        // from the first scrape.
        AssertEachHasItsOwnSeriesAtZero(metrics, PeerMetrics.Requests, Enum.GetValues<PeerRequestResult>().Select(NodeCache.Peers.PeerMetrics.Label).ToList());
        AssertEachHasItsOwnSeriesAtZero(metrics, PeerMetrics.Answers, Enum.GetValues<PeerAnswerResult>().Select(NodeCache.Peers.PeerMetrics.Label).ToList());
    }

    private static void AssertEachHasItsOwnSeriesAtZero(AgentMetrics metrics, string name, List<string> results)
    {
        Assert.Equal(results.Count, results.Distinct().Count());
        Assert.Equal(results.Order(StringComparer.Ordinal), Labels(metrics, name, "result"));
        Assert.All(results, result => Assert.Equal(0, metrics.Value(name, AgentMetrics.Labels(("result", result)))));
    }

    [Fact]
    public async Task With_peering_off_no_peer_series_is_exported_and_the_bytes_served_from_peers_stay_at_zero()
    {
        await using var agent = await AgentProcess.StartAsync([]);
        using var http = new HttpClient();

        var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);

        Assert.DoesNotContain("nodecache_peer_", metrics.Text, StringComparison.Ordinal);
        // Bytes served by source keeps its peer line, so that the dashboard's panel reads the same with and without peering.
        Assert.Equal(0, Assert.Single(metrics.Series("nodecache_served_bytes_total"), s => s.Labels["source"] == "peer").Value);
    }

    // The first scrape of an agent in a cluster of one: the static list holds the agent's own peer URL, which is all a
    // member needs to be.
    private static async Task<AgentMetrics> FreshPeeringAgentMetricsAsync()
    {
        using var folder = TempFolder.Create("fresh-peer-series");
        var tokenFile = folder.Combine("peer-token");
        await File.WriteAllTextAsync(tokenFile, PeerCluster.Secret + "\n");
        var port = LoopbackPort.Next();
        await using var agent = await AgentProcess.StartAsync(
            ["--peer-listen", $"127.0.0.1:{port}", "--peers", $"http://127.0.0.1:{port}", "--peer-token-file", tokenFile]);
        using var http = new HttpClient();
        return await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);
    }

    private static List<string> Labels(AgentMetrics metrics, string name, string label) =>
        [.. metrics.Series(name).Select(s => s.Labels[label]).Order(StringComparer.Ordinal)];

    // The peer series the chart's dashboard and alerts query.
    private static List<string> QueriedPeerSeries()
    {
        var chart = Helm.Chart("nodecache");
        var text = File.ReadAllText(GrafanaDashboard.ChartDashboardPath) + File.ReadAllText(Path.Combine(chart, "templates", "prometheusrule.yaml"));
        return [.. PeerSeries().Matches(text).Select(m => m.Value).Distinct()];
    }

    // The values docs/metrics.md lists for a metric's label: | `nodecache_peer_requests_total` | `result` (served, redirected, ...) |
    private static List<string> Documented(string name, string label)
    {
        var page = File.ReadAllText(Path.Combine(Helm.RepositoryRoot, "docs", "metrics.md"));
        var row = Regex.Match(page, $@"^\| `{Regex.Escape(name)}` \| `{Regex.Escape(label)}` \((?<values>[^)]+)\)", RegexOptions.Multiline);
        Assert.True(row.Success, $"docs/metrics.md lists no {label} values for {name}");
        return [.. row.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)];
    }

    [GeneratedRegex(@"nodecache_peer_[a-z_]+")]
    private static partial Regex PeerSeries();
}
