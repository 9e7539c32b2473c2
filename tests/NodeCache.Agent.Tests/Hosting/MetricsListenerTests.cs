using System.Net;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Hosting;

/// <summary><c>--metrics-listen</c>: an address for Prometheus that serves the metrics and probes and never the mirror.</summary>
public sealed class MetricsListenerTests
{
    [Fact]
    public async Task The_metrics_address_serves_metrics_and_probes_and_refuses_the_registry_api()
    {
        var metricsPort = LoopbackPort.Next();
        await using var agent = await AgentProcess.StartAsync(["--metrics-listen", $"127.0.0.1:{metricsPort}"]);
        using var http = new HttpClient();
        var metrics = new Uri($"http://127.0.0.1:{metricsPort}/");

        var scrape = await http.GetAsync(new Uri(metrics, "/metrics"));
        var ready = await http.GetAsync(new Uri(metrics, "/readyz"));
        var registry = await http.GetAsync(new Uri(metrics, "/v2/"));
        var mirror = await http.GetAsync(new Uri(agent.BaseUri, "/v2/"));

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("# TYPE", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, registry.StatusCode);
        Assert.Equal(HttpStatusCode.OK, mirror.StatusCode);
    }
}
