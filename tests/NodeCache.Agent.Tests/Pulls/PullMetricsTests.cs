using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Pulls;

/// <summary>Image pulls by real containerd, as <c>/metrics</c> (scraped and parsed) and <c>nodecache pulls</c> report them.</summary>
public sealed class PullMetricsTests(ContainerdFixture fixture) : IClassFixture<ContainerdFixture>
{
    private const string Harbor = "harbor.test";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public async Task A_cold_and_a_warm_containerd_pull_are_each_one_image_pull_with_their_bytes_duration_and_source()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 921);
        var image = await builder.BuildAsync("team/metered", "1", [3 * OciImageBuilder.MiB, 128 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, registry.BaseUri));
        Containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));
        var imageBytes = image.Manifest.Size + image.Blobs.Sum(b => b.Size);
        using var http = new HttpClient();

        await Containerd.PullAsync(image.Reference(Harbor));
        var cold = await WaitForPullsAsync(http, agent, "upstream");
        await Containerd.RemoveImageAsync(image.Reference(Harbor));
        await Containerd.PullAsync(image.Reference(Harbor));
        var warm = await WaitForPullsAsync(http, agent, "cache");

        var upstream = Labels("upstream");
        Assert.Equal(1, cold.Value("nodecache_image_pulls_total", upstream));
        Assert.Equal(imageBytes, cold.Value("nodecache_image_pull_bytes_total", upstream));
        Assert.Equal(1, cold.Value("nodecache_image_pull_duration_seconds_count", upstream));
        Assert.InRange(cold.Value("nodecache_image_pull_duration_seconds_sum", upstream), 0.000_001, Patience.TotalSeconds);
        Assert.Equal(1, cold.Value("nodecache_image_pull_duration_seconds_bucket", AgentMetrics.Labels(("registry", Harbor), ("source", "upstream"), ("le", "+Inf"))));
        var cache = Labels("cache");
        Assert.Equal(1, warm.Value("nodecache_image_pulls_total", cache));
        Assert.Equal(imageBytes, warm.Value("nodecache_image_pull_bytes_total", cache));
        Assert.Equal(1, warm.Value("nodecache_image_pulls_total", upstream));
        Assert.Equal(0, warm.Value("nodecache_image_pulls_total", Labels("mixed")));

        var ok = AgentMetrics.Labels(("registry", Harbor), ("status_class", "2xx"));
        Assert.True(warm.Value("nodecache_upstream_request_duration_seconds_count", ok) >= image.Blobs.Count + 1);
        Assert.Equal(warm.Value("nodecache_upstream_requests_total", ok), warm.Value("nodecache_upstream_request_duration_seconds_count", ok));
        Assert.True(warm.Value("nodecache_upstream_request_duration_seconds_sum", ok) > 0);
        Assert.DoesNotContain(image.ManifestDigest.Hex, warm.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("team/metered", warm.Text, StringComparison.Ordinal);

        // Every series the chart's dashboard and alerts query is one the agent exports, fill failures included before any failed.
        // The peer series exist with peering on only (FreshPeerSeriesTests), and this agent runs alone.
        var chart = Helm.Chart("nodecache");
        var queried = System.Text.RegularExpressions.Regex.Matches(
                File.ReadAllText(Path.Combine(chart, "dashboards", "nodecache.json")) + File.ReadAllText(Path.Combine(chart, "templates", "prometheusrule.yaml")),
                "nodecache_[a-z_]+")
            .Select(m => m.Value).Distinct().Where(name => !name.StartsWith("nodecache_peer_", StringComparison.Ordinal));
        Assert.All(queried, name => Assert.Contains("\n" + name, warm.Text, StringComparison.Ordinal));

        var pulls = await NodeCacheCli.RunAsync(agent, "pulls", "-o", "json");
        Assert.Equal(0, pulls.ExitCode);
        var listed = JsonDocument.Parse(pulls.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(["PULL_SOURCE_UPSTREAM", "PULL_SOURCE_CACHE"], listed.Select(p => p.GetProperty("source").GetString()));
        Assert.All(listed, pull =>
        {
            Assert.True(pull.GetProperty("finished").GetBoolean());
            Assert.Equal(Harbor, pull.GetProperty("registry").GetString());
            Assert.Equal("team/metered", pull.GetProperty("repository").GetString());
            Assert.Equal("1", pull.GetProperty("reference").GetString());
            Assert.Equal(imageBytes, pull.GetProperty("bytes").GetInt64());
        });
        await Containerd.RemoveImageAsync(image.Reference(Harbor));
    }

    [Fact]
    public async Task Pulls_watch_streams_a_pull_as_it_starts_and_as_it_ends()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 922);
        var image = await builder.BuildAsync("team/watched", "1", [256 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, registry.BaseUri));
        Containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));
        using var folder = TempFolder.Create("pulls-watch");
        using var http = new HttpClient();
        using var output = new CapturedOutput(folder.Combine("watch.log"));
        await using var watch = NodeCacheCli.Start(agent, output, "pulls", "--watch", "-o", "json");
        using var timeout = new CancellationTokenSource(Patience);
        // A request of its own shows when the watch is subscribed: it lists running and recent pulls first, then follows.
        await http.GetAsync(new Uri(agent.BaseUri, $"/v2/team/ready/manifests/1?ns={Harbor}"));
        await output.WaitForLineAsync(l => l.Text.Contains("team/ready", StringComparison.Ordinal), timeout.Token);

        await Containerd.PullAsync(image.Reference(Harbor));

        var finished = await output.WaitForLineAsync(l => l.Text.Contains("team/watched", StringComparison.Ordinal) && IsFinished(l.Text), timeout.Token);
        var started = output.Lines().First(l => l.Text.Contains("team/watched", StringComparison.Ordinal)).Text;
        Assert.False(IsFinished(started));
        var done = JsonDocument.Parse(finished.Text).RootElement;
        Assert.Equal("team/watched", done.GetProperty("repository").GetString());
        Assert.Equal("PULL_SOURCE_UPSTREAM", done.GetProperty("source").GetString());
        await Containerd.RemoveImageAsync(image.Reference(Harbor));
    }

    private static bool IsFinished(string line) => JsonDocument.Parse(line).RootElement.GetProperty("finished").GetBoolean();

    private static IReadOnlyDictionary<string, string> Labels(string source) => AgentMetrics.Labels(("registry", Harbor), ("source", source));

    // A pull is recorded when its requests have been idle for the tracker's window; poll the scrape until it is.
    private static async Task<AgentMetrics> WaitForPullsAsync(HttpClient http, AgentProcess agent, string source)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            var metrics = await AgentMetrics.ReadAsync(http, agent.BaseUri, timeout.Token);
            if (metrics.Value("nodecache_image_pulls_total", Labels(source)) > 0)
            {
                return metrics;
            }
            await Task.Delay(200, timeout.Token);
        }
    }
}
