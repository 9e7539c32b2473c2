using NodeCache.PerfHarness.Measurement;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Report;
using NodeCache.PerfHarness.Workload;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Scenarios;

/// <summary>
/// What a node sees: <c>ctr images pull</c> of a five-layer image, unpacked, through hosts.toml. Cold through an agent
/// with an empty cache, warm through the same agent after the image and its content were removed from containerd, and
/// direct from the upstream (hosts.toml with only <c>server</c>). Each repetition starts a fresh agent so its pull is cold.
/// </summary>
internal static class ContainerdPull
{
    public const string Name = "pull";
    public const string Time = "pull time";
    public const string Direct = "direct";
    public const string AgentCold = "agent (cold)";
    public const string AgentWarm = "agent (warm)";
    public const string PeakMemory = "agent peak RSS";

    // A registry name of its own for direct pulls, so its hosts.toml (server only) and the mirrored one coexist.
    private const string DirectHost = "direct.harbor.test";

    public static async Task<ScenarioResult> RunAsync(Testbed bed, CancellationToken cancellationToken)
    {
        var settings = bed.Settings;
        var image = bed.Content.PullImage ?? throw new InvalidOperationException("the pull image was not pushed");
        var size = image.Blobs.Sum(b => b.Size) + image.Manifest.Size;
        var @case = $"{image.Layers.Count} layers, {UpstreamContent.Mebibytes(size)} MiB";
        var result = new ScenarioResult(Name, "containerd pull (ctr images pull --hosts-dir, unpacked to overlayfs)", [Direct, AgentCold, AgentWarm]);
        var upstreamUrl = bed.Upstream.BaseUri.ToString().TrimEnd('/');
        var mirrored = image.Reference(Testbed.RegistryHost);
        var direct = image.Reference(DirectHost);

        await using var containerd = await ContainerdProcess.StartAsync(cancellationToken: cancellationToken);
        containerd.WriteHosts(DirectHost, upstreamUrl);
        for (var repetition = 0; repetition < settings.Repetitions; repetition++)
        {
            await using var agent = await AgentProcess.StartAsync(Testbed.AgentArguments(bed.Upstream), cancellationToken: cancellationToken);
            containerd.WriteHosts(Testbed.RegistryHost, upstreamUrl, agent.BaseUri.ToString().TrimEnd('/'));

            async Task PullAsync(string column, string reference)
            {
                var before = await UpstreamTraffic.OfBlobAsync(bed.Upstream, null, cancellationToken);
                var elapsed = await containerd.PullAsync(reference, cancellationToken: cancellationToken);
                var pulled = (await UpstreamTraffic.OfBlobAsync(bed.Upstream, null, cancellationToken)).Since(before);
                await containerd.RemoveImageAsync(reference, cancellationToken: cancellationToken);
                result.Add(@case, column, Time, "s", elapsed.TotalSeconds);
                result.Add(@case, column, "upstream blob GETs", "GETs", pulled.Gets);
                bed.Progress($"pull {column}: {elapsed.TotalSeconds:F2} s, {pulled.Gets} upstream blob GETs");
            }

            // Cold must come before warm; the direct pull moves from first to last so it does not always follow the same thing.
            if (repetition % 2 == 0)
            {
                await PullAsync(Direct, direct);
            }
            await PullAsync(AgentCold, mirrored);
            await PullAsync(AgentWarm, mirrored);
            if (repetition % 2 == 1)
            {
                await PullAsync(Direct, direct);
            }
            result.Add(@case, AgentCold, PeakMemory, "MiB", ProcessMemory.Of(agent.Pid).PeakBytes / 1048576.0);
        }
        result.AddRatio(@case, Time, AgentCold, Direct);
        result.AddRatio(@case, Time, AgentWarm, Direct);
        result.Note("Pull times include unpacking (gunzip and overlayfs writes), the same work on every path.");
        return result;
    }
}
