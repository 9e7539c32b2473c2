using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Hosting;

/// <summary>What a Prometheus scraping an agent that has done nothing yet already sees.</summary>
public sealed class FreshAgentSeriesTests
{
    [Fact]
    public async Task Every_fill_failure_reason_and_the_fills_in_flight_are_exported_at_zero_before_any_fill()
    {
        await using var agent = await AgentProcess.StartAsync([]);
        using var http = new HttpClient();

        var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);

        // NodeCacheDigestMismatch alerts on increase(): a series that first appeared at 1 would never fire it.
        var failures = metrics.Series("nodecache_fill_failures_total").ToDictionary(s => s.Labels["reason"], s => s.Value);
        Assert.Equal(new Dictionary<string, double> { ["digest_mismatch"] = 0, ["size_mismatch"] = 0, ["upstream"] = 0, ["disk"] = 0 }, failures);
        Assert.Equal(0, Assert.Single(metrics.Series("nodecache_fills_in_flight")).Value);
    }

    [Fact]
    public async Task The_series_of_every_request_result_and_of_each_configured_registry_start_at_zero()
    {
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream("harbor.test", new Uri("http://127.0.0.1:9")), "--upstream", "_default=direct"]);
        using var http = new HttpClient();

        var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, CancellationToken.None);

        // The first pull after a start must show in rate(): Prometheus sees no increase in a series born with its first event.
        Assert.Equal(
            [
                "blob coalesced", "blob error", "blob hit", "blob miss", "manifest error", "manifest hit", "manifest miss", "manifest stale",
                "referrers error", "referrers hit", "referrers miss", "referrers stale", "tags error", "tags hit", "tags miss", "tags stale",
            ],
            metrics.Series("nodecache_requests_total").Select(s => $"{s.Labels["kind"]} {s.Labels["result"]}").Order(StringComparer.Ordinal));
        Assert.Equal(["cache", "peer", "upstream"], metrics.Series("nodecache_served_bytes_total").Select(s => s.Labels["source"]).Order(StringComparer.Ordinal));
        Assert.Equal(["cache", "mixed", "upstream"], metrics.Series("nodecache_image_pulls_total").Select(s => s.Labels["source"]).Order(StringComparer.Ordinal));
        Assert.All(metrics.Series("nodecache_image_pulls_total"), s => Assert.Equal("harbor.test", s.Labels["registry"]));
        Assert.Equal(["2xx", "3xx", "4xx", "5xx", "error"], metrics.Series("nodecache_upstream_requests_total").Select(s => s.Labels["status_class"]).Order(StringComparer.Ordinal));
        Assert.Equal(["harbor.test"], metrics.Series("nodecache_upstream_bytes_total").Select(s => s.Labels["registry"]));
        Assert.All(
            new[] { "nodecache_requests_total", "nodecache_served_bytes_total", "nodecache_image_pulls_total", "nodecache_image_pull_bytes_total", "nodecache_upstream_requests_total", "nodecache_upstream_bytes_total" },
            name => Assert.All(metrics.Series(name), s => Assert.Equal(0, s.Value)));
    }
}
