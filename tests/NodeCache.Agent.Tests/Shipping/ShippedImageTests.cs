using System.Diagnostics;
using System.Text.Json;
using NodeCache.Agent.Tests.Charts;
using NodeCache.Testing;
using NodeCache.Testing.Images;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Shipping;

/// <summary>
/// The image the chart deploys, built from the repository's Dockerfile by buildah onto bases made from Debian packages,
/// imported into a real containerd and run with <c>ctr run</c> the way the chart's DaemonSet runs it: the agent on the
/// host network, its cache on a host folder, and the containerd-hosts sidecar pointing containerd at it.
/// </summary>
public sealed class ShippedImageTests(ImageFixture fixture, ITestOutputHelper output) : IClassFixture<ImageFixture>
{
    private const string Harbor = "harbor.test";

    // What the image may weigh as a registry stores it, layers compressed.
    private const long CompressedBudget = 80_000_000;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public void The_image_is_at_most_80_MB_compressed()
    {
        var image = fixture.Image.Image;

        var unpacked = image.UnpackedBytes();

        output.WriteLine($"{image.Layers.Count} layers: {image.CompressedBytes:N0} bytes compressed, {unpacked:N0} bytes unpacked");
        foreach (var layer in image.Layers)
        {
            output.WriteLine($"  {layer.Digest} {layer.Size:N0} bytes");
        }
        Assert.InRange(image.CompressedBytes, 1, CompressedBudget);
    }

    [Fact]
    public void The_image_holds_the_agent_and_the_cli_self_contained_on_a_base_with_no_shell_and_no_sdk()
    {
        var image = fixture.Image.Image;

        var paths = image.Paths();

        Assert.Equal(["nodecache-agent"], image.Entrypoint);
        Assert.Equal("1654:1654", image.User);
        var path = image.Env.Single(e => e.StartsWith("PATH=", StringComparison.Ordinal)).Split('=', 2)[1].Split(':');
        Assert.Equal(["/opt/nodecache/agent", "/opt/nodecache/cli"], path.Take(2));
        foreach (var program in new[] { "opt/nodecache/agent/nodecache-agent", "opt/nodecache/cli/nodecache" })
        {
            Assert.True(paths.TryGetValue(program, out var entry), $"{program} is missing");
            Assert.True(entry.Mode.HasFlag(UnixFileMode.OtherExecute), $"{program} is not executable by every user: {entry.Mode}");
        }
        // Each program carries its own trimmed runtime; the base has none, and no SDK, shell or package manager.
        Assert.Contains("opt/nodecache/agent/libcoreclr.so", paths.Keys);
        Assert.Contains("opt/nodecache/cli/libcoreclr.so", paths.Keys);
        Assert.DoesNotContain(paths.Keys, p => p.StartsWith("usr/share/dotnet", StringComparison.Ordinal));
        Assert.DoesNotContain(paths.Keys, p => p.Contains("Microsoft.AspNetCore.Mvc", StringComparison.Ordinal));
        foreach (var absent in new[] { "usr/bin/sh", "usr/bin/dash", "usr/bin/bash", "usr/bin/dpkg", "usr/bin/apt" })
        {
            Assert.DoesNotContain(absent, paths.Keys);
        }
        Assert.Contains("\napp:x:1654:1654:", "\n" + image.ReadText("etc/passwd"), StringComparison.Ordinal);
        Assert.Contains("BEGIN CERTIFICATE", image.ReadText("etc/ssl/certs/ca-certificates.crt") ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agent_runs_as_the_daemonset_runs_it_and_the_sidecar_points_containerd_at_it_until_it_stops()
    {
        using var folder = TempFolder.Create("ds");
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 1717);
        var app = await builder.BuildAsync("team/app", "1", [2 * OciImageBuilder.MiB, 256 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(app);
        var port = LoopbackPort.Next();
        var registryUrl = registry.BaseUri.ToString().TrimEnd('/');
        var cacheDir = folder.Combine("cache");
        var values = folder.Combine("values.yaml");
        await File.WriteAllTextAsync(values, $$"""
            listen: ["127.0.0.1:{{port}}"]
            cacheDir: {{cacheDir}}
            cacheSize: 1GiB
            upstreams: [{registry: {{Harbor}}, urls: ["{{registryUrl}}"]}]
            control: {socket: {{folder.Combine("run/control.sock")}}}
            containerdHosts: {dir: {{Containerd.HostsDirectory}}, registries: ["{{Harbor}}={{registryUrl}}"]}
            """);
        var chart = await RenderedChart.RenderAsync(values);
        var image = fixture.Image.Image;
        // The node's own hosts.toml for the registry, which the sidecar replaces while it runs and then puts back.
        Containerd.WriteHosts(Harbor, registryUrl);
        var hosts = Path.Combine(Containerd.HostsDirectory, Harbor, "hosts.toml");
        var nodesOwn = await File.ReadAllTextAsync(hosts);
        using var agentLog = new CapturedOutput(folder.Combine("agent.log"));
        using var sidecarLog = new CapturedOutput(folder.Combine("sidecar.log"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var agentUri = new Uri($"http://127.0.0.1:{port}/");

        await using var agent = RunningContainer.Start(Containerd, ImageFixture.ChartUserImage, "nodecache-agent", DaemonSetContainer.Spec(chart, "agent", image, folder), agentLog);
        await WaitUntilAsync(async () => (await http.GetAsync(new Uri(agentUri, "readyz"))).IsSuccessStatusCode, agent, "the agent's /readyz answers 200");
        await using var sidecar = RunningContainer.Start(Containerd, ImageFixture.ChartUserImage, "containerd-hosts", DaemonSetContainer.Spec(chart, "containerd-hosts", image, folder), sidecarLog);
        await WaitUntilAsync(() => Task.FromResult(File.ReadAllText(hosts).Contains($"[host.\"http://127.0.0.1:{port}\"]", StringComparison.Ordinal)), sidecar, "the sidecar points hosts.toml at the agent");

        // Isolated as the pod's security context asks: root (the chart's runAsUser), no capabilities at all, no new
        // privileges, the runtime's seccomp filter, and a read-only root filesystem.
        var status = ProcStatus(await agent.HostPidAsync());
        Assert.Equal("0", status["Uid"].Split('\t')[0]);
        Assert.Equal("0000000000000000", status["CapEff"]);
        Assert.Equal("0000000000000000", status["CapBnd"]);
        Assert.Equal("1", status["NoNewPrivs"]);
        Assert.Equal("2", status["Seccomp"]);
        var root = File.ReadAllLines($"/proc/{await agent.HostPidAsync()}/mountinfo").Select(l => l.Split(' ')).Single(f => f[4] == "/");
        Assert.Contains("ro", root[5].Split(','));
        Assert.Equal(nodesOwn, await File.ReadAllTextAsync(hosts + ".nodecache-backup"));

        // containerd pulls through the agent in the container: cold from the registry, then warm from the cache on the host folder.
        // A pull is counted once none of its requests has run for 2 s: the warm pull waits for that, or both are one pull.
        var upstream = AgentMetrics.Labels(("registry", Harbor), ("source", "upstream"));
        var cache = AgentMetrics.Labels(("registry", Harbor), ("source", "cache"));
        await Containerd.PullAsync(app.Reference(Harbor));
        await WaitUntilAsync(async () => (await AgentMetrics.ReadAsync(http, agentUri, CancellationToken.None)).Value("nodecache_image_pulls_total", upstream) >= 1,
            agent, "the agent counts the cold pull");
        await Containerd.RemoveImageAsync(app.Reference(Harbor));
        await Containerd.PullAsync(app.Reference(Harbor));
        await WaitUntilAsync(async () => (await AgentMetrics.ReadAsync(http, agentUri, CancellationToken.None)).Value("nodecache_image_pulls_total", cache) >= 1,
            agent, "the agent counts the warm pull");
        var metrics = await AgentMetrics.ReadAsync(http, agentUri, CancellationToken.None);
        Assert.Equal(1, metrics.Value("nodecache_image_pulls_total", upstream));
        Assert.Equal(1, metrics.Value("nodecache_image_pulls_total", cache));
        Assert.All(app.Blobs, blob => Assert.True(File.Exists(Path.Combine(cacheDir, "blobs", "sha256", blob.Digest.Hex)), $"{blob.Digest} is not in the cache folder on the host"));

        // The CLI in the image talks to the agent in the image over the control socket, as `kubectl exec ... nodecache` does.
        var stats = await agent.ExecAsync("stats", ["nodecache", "stats", "-o", "json"]);
        Assert.True(stats.Succeeded, $"{stats.Stdout}{stats.Stderr}");
        Assert.Equal(app.Blobs.Count + 1, JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("blobs").GetInt64());

        // Stopped as the kubelet stops the pod: the sidecar puts the node's own file back, the agent drains and exits cleanly.
        Assert.Equal(0, await sidecar.StopAsync(Patience));
        Assert.Equal(nodesOwn, await File.ReadAllTextAsync(hosts));
        Assert.False(File.Exists(hosts + ".nodecache-backup"));
        var grace = TimeSpan.FromSeconds(int.Parse(chart.PodSpec["terminationGracePeriodSeconds"].Text, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, await agent.StopAsync(grace));
        output.WriteLine(agentLog.Tail(20));
    }

    private static Dictionary<string, string> ProcStatus(int pid) =>
        File.ReadAllLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim());

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, RunningContainer container, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }
            if (container.HasExited || clock.Elapsed > Patience)
            {
                throw new TimeoutException($"not true within {clock.Elapsed}: {what}; container {container.Id} {(container.HasExited ? $"exited with {await container.Exited}" : "runs")}\n{container.Output.Tail(40)}");
            }
            await Task.Delay(200);
        }
    }
}
