using NodeCache.Peers;

namespace NodeCache.Testing.Prometheus;

/// <summary>One step of <see cref="ScrapedPulls"/>: what it did, and when it started and ended.</summary>
public sealed record PullStep(string Name, DateTimeOffset Start, DateTimeOffset End);

/// <summary>
/// Real containerd pulls through two real agents with peering on while a real Prometheus scrapes each agent's metrics
/// address every second, labelled with a node name as the chart's ServiceMonitor does. Through node-a: cold and warm
/// pulls of one image, a cold pull of another, warm pulls of both at once, and a pull after <c>nodecache prewarm</c>;
/// then through node-b, the first image again, every blob of which it takes from node-a; with quiet pauses between them.
/// Prometheus keeps running afterwards, for the dashboard's queries over <see cref="Started"/>..<see cref="Finished"/>.
/// </summary>
public sealed class ScrapedPulls : IAsyncDisposable
{
    /// <summary>The <c>node</c> label of the agent the pulls go through first, <see cref="Agent"/>.</summary>
    public const string NodeName = "node-a";

    /// <summary>The <c>node</c> label of the second agent, <see cref="PeerAgent"/>, whose one pull takes its blobs from node-a.</summary>
    public const string PeerNodeName = "node-b";

    /// <summary>The shared secret of the two agents' peer APIs.</summary>
    public const string PeerSecret = "peer-secret-of-the-scraped-nodes";

    /// <summary>The registry the images are pulled from (the agent's one upstream rule).</summary>
    public const string Harbor = "harbor.test";

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<PullStep> _steps = [];
    private readonly TempFolder _folder = TempFolder.Create("scraped-pulls");

    private readonly Action<string> _progress;

    private ScrapedPulls(Action<string> progress) => _progress = progress;

    public PrometheusProcess Prometheus { get; private set; } = null!;

    /// <summary>node-a's agent.</summary>
    public AgentProcess Agent { get; private set; } = null!;

    /// <summary>node-b's agent.</summary>
    public AgentProcess PeerAgent { get; private set; } = null!;

    /// <summary>node-a's metrics-only address (<c>--metrics-listen</c>), which Prometheus scrapes.</summary>
    public Uri MetricsUri { get; private set; } = null!;

    public DateTimeOffset Started { get; private set; }

    public DateTimeOffset Finished { get; private set; }

    public TimeSpan ScrapeInterval => Prometheus.ScrapeInterval;

    /// <summary>The steps in the order they ran; the first is the first cold pull after the agent started.</summary>
    public IReadOnlyList<PullStep> Steps => _steps;

    /// <summary>Runs the pulls with <paramref name="pause"/> between them; <paramref name="progress"/> hears what happens.</summary>
    public static async Task<ScrapedPulls> RunAsync(TimeSpan pause, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var pulls = new ScrapedPulls(progress ?? (_ => { }));
        try
        {
            await pulls.RunPullsAsync(pause, cancellationToken);
            return pulls;
        }
        catch
        {
            await pulls.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
        _owned.Clear();
        _folder.Dispose();
    }

    private async Task StepAsync(string name, Func<Task> step)
    {
        _progress(name);
        var start = DateTimeOffset.UtcNow;
        await step();
        _steps.Add(new PullStep(name, start, DateTimeOffset.UtcNow));
    }

    private T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    private async Task RunPullsAsync(TimeSpan pause, CancellationToken cancellationToken)
    {
        var registry = Own(await RegistryProcess.StartAsync(cancellationToken: cancellationToken));
        using var builder = new OciImageBuilder(seed: 4242);
        var app = await builder.BuildAsync("team/app", "1.4", [24 * OciImageBuilder.MiB, 6 * OciImageBuilder.MiB, 512 * OciImageBuilder.KiB], cancellationToken: cancellationToken);
        var tools = await builder.BuildAsync("team/tools", "2", [12 * OciImageBuilder.MiB, 2 * OciImageBuilder.MiB], cancellationToken: cancellationToken);
        var batch = await builder.BuildAsync("team/batch", "7", [16 * OciImageBuilder.MiB], cancellationToken: cancellationToken);
        foreach (var image in new[] { app, tools, batch })
        {
            await OciPusher.For(registry).PushAsync(image, cancellationToken);
        }
        var tokenFile = _folder.Combine("peer-token");
        await File.WriteAllTextAsync(tokenFile, PeerSecret + "\n", cancellationToken);
        // node-a lists only itself, as an agent whose membership has not yet seen node-b join, so its own pulls never go
        // through node-b; node-b lists both, and a port that makes node-a the owner of every blob of team/app, so that its
        // pull of that image takes all of it from node-a and nothing from Harbor.
        var peerPort = LoopbackPort.Next();
        var peerUrl = $"http://127.0.0.1:{peerPort}";
        var peerPortB = LoopbackPort.Next();
        while (app.Blobs.Any(blob => PeerOwnership.Score($"http://127.0.0.1:{peerPortB}", blob.Digest) > PeerOwnership.Score(peerUrl, blob.Digest)))
        {
            peerPortB = LoopbackPort.Next();
        }
        var metricsPort = LoopbackPort.Next();
        var metricsPortB = LoopbackPort.Next();
        MetricsUri = new Uri($"http://127.0.0.1:{metricsPort}/");
        Agent = Own(await StartNodeAsync(metricsPort, peerPort, peerUrl));
        // A starved agent on this shared machine can miss the default connect timeout (200 ms) or leave a gap in a stream
        // longer than the default stall timeout (2 s), and go to Harbor instead.
        PeerAgent = Own(await StartNodeAsync(
            metricsPortB, peerPortB, $"{peerUrl},http://127.0.0.1:{peerPortB}", "--peer-connect-timeout", "1s", "--peer-stall-timeout", "10s"));
        var containerd = Own(await ContainerdProcess.StartAsync(cancellationToken: cancellationToken));
        containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), Agent.BaseUri.ToString().TrimEnd('/'));
        Prometheus = Own(await PrometheusProcess.StartAsync(
            [
                new ScrapeTarget("nodecache", $"127.0.0.1:{metricsPort}", new Dictionary<string, string> { ["node"] = NodeName }),
                new ScrapeTarget("nodecache", $"127.0.0.1:{metricsPortB}", new Dictionary<string, string> { ["node"] = PeerNodeName }),
            ],
            TimeSpan.FromSeconds(1), cancellationToken));

        Started = DateTimeOffset.UtcNow;
        await Prometheus.WaitForScrapeAfterAsync(Started, TimeSpan.FromSeconds(30), cancellationToken);
        await Task.Delay(pause, cancellationToken);
        await StepAsync("cold pull of team/app", () => containerd.PullAsync(app.Reference(Harbor), cancellationToken: cancellationToken));
        await Task.Delay(pause, cancellationToken);
        await containerd.RemoveImageAsync(app.Reference(Harbor), cancellationToken: cancellationToken);
        await StepAsync("warm pull of team/app", () => containerd.PullAsync(app.Reference(Harbor), cancellationToken: cancellationToken));
        await Task.Delay(pause, cancellationToken);
        await StepAsync("cold pull of team/tools", () => containerd.PullAsync(tools.Reference(Harbor), cancellationToken: cancellationToken));
        await Task.Delay(pause, cancellationToken);
        await containerd.RemoveImageAsync(app.Reference(Harbor), cancellationToken: cancellationToken);
        await containerd.RemoveImageAsync(tools.Reference(Harbor), cancellationToken: cancellationToken);
        await StepAsync("warm pulls of team/app and team/tools at once", () => Task.WhenAll(
            containerd.PullAsync(app.Reference(Harbor), cancellationToken: cancellationToken),
            containerd.PullAsync(tools.Reference(Harbor), cancellationToken: cancellationToken)));
        await Task.Delay(pause, cancellationToken);
        await StepAsync("nodecache prewarm of team/batch, then its pull", async () =>
        {
            (await NodeCacheCli.RunAsync(Agent, "prewarm", batch.Reference(Harbor))).EnsureSucceeded("nodecache prewarm");
            await containerd.PullAsync(batch.Reference(Harbor), cancellationToken: cancellationToken);
        });
        await Task.Delay(pause, cancellationToken);
        await containerd.RemoveImageAsync(app.Reference(Harbor), cancellationToken: cancellationToken);
        containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), PeerAgent.BaseUri.ToString().TrimEnd('/'));
        await StepAsync("pull of team/app through node-b, its blobs from node-a", () => containerd.PullAsync(app.Reference(Harbor), cancellationToken: cancellationToken));
        await Task.Delay(pause * 2, cancellationToken);
        Finished = DateTimeOffset.UtcNow;
        // Whatever the agent counted by now is in the TSDB once a scrape has started after it.
        await Prometheus.WaitForScrapeAfterAsync(Finished, TimeSpan.FromSeconds(30), cancellationToken);

        Task<AgentProcess> StartNodeAsync(int metrics, int peer, string peers, params string[] extra) => AgentProcess.StartAsync(
            [
                .. AgentProcess.Upstream(Harbor, registry.BaseUri), "--metrics-listen", $"127.0.0.1:{metrics}",
                "--peer-listen", $"127.0.0.1:{peer}", "--peers", peers, "--peer-token-file", tokenFile, .. extra,
            ],
            cancellationToken: cancellationToken);
    }
}
