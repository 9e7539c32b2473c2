using System.Globalization;
using NodeCache.PerfHarness.Cluster.Faults;
using NodeCache.PerfHarness.Report;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster;

/// <summary>
/// A cold rollout on a simulated cluster (<see cref="SimulatedCluster"/>): one node pulling alone, then every node at once
/// at each cluster size, with peering off and on side by side, then the same rollout under each fault. Harbor's egress is
/// divided by the image size (N without peering, 1 is the goal with it), and each rollout's time is set against one node
/// pulling alone. Node 1 pulls with containerd through the CRI, the others as containerd does over HTTP, hashing every byte.
/// </summary>
internal static class ClusterRollout
{
    public const string Name = "cluster";
    public const string Off = "peering off";
    public const string On = "peering on";
    public const string Alone = "one node alone";
    public const string Time = "time until every node holds the image";
    public const string Egress = "Harbor egress / image size";
    public const string PerBlobLeast = "Harbor bytes of one blob / its size, least-served blob";
    public const string PerBlobMost = "Harbor bytes of one blob / its size, most-served blob";
    public const string Completed = "nodes that completed";

    public static string SizeCase(int nodes) => string.Create(CultureInfo.InvariantCulture, $"N = {nodes}");

    public static async Task<ScenarioResult> RunAsync(HarnessSettings settings, Action<string> progress, CancellationToken cancellationToken)
    {
        var result = new ScenarioResult(Name, "Simulated cluster: a cold rollout on every node at once (network namespaces, shaped links, Harbor behind its own link)", [Off, On]);
        var peering = await PeeringSupport.DetectAsync(cancellationToken);
        var options = new ClusterOptions
        {
            NodeLink = HarnessSettings.ClusterNodeLink,
            HarborLink = HarnessSettings.ClusterHarborLink,
            AgentArguments = settings.ClusterAgentArguments,
        };
        await using var cluster = await SimulatedCluster.StartAsync(options, cancellationToken);
        var sizes = settings.ClusterSizes;
        // One machine more than the largest rollout: the node that joins mid-rollout.
        var nodes = await cluster.AddNodesAsync(sizes.Max() + 1, withContainerd: 1, cancellationToken);
        progress($"cluster {cluster.Network.Subnet}.0/24: Harbor at {cluster.Harbor.BaseUri} ({options.HarborLink}), {nodes.Count} nodes ({options.NodeLink}), "
            + $"API server at {cluster.Api.BaseUri}; peering {(peering ? "available" : "not in this agent (no --peer-listen): peering off only")}");

        using var builder = new OciImageBuilder(seed: 2014);
        var image = await builder.BuildAsync("perf/rollout", "v1", settings.ClusterLayerSizes, cancellationToken: cancellationToken);
        await cluster.PushAsync(image, cancellationToken);
        var size = image.Blobs.Sum(b => b.Size);
        progress($"pushed {image.Reference(SimulatedCluster.RegistryHost)}: {image.Layers.Count} layers, {size / (double)OciImageBuilder.MiB:F0} MiB");

        await MeasureOneNodeAsync(cluster, nodes[1], image, result, progress, cancellationToken);
        var modes = peering ? new[] { PeeringMode.Off, PeeringMode.Service } : [PeeringMode.Off];
        for (var i = 0; i < sizes.Count; i++)
        {
            // The order of the two alternates with the size, so neither always runs on a machine the other just warmed.
            foreach (var mode in i % 2 == 0 ? modes : modes.Reverse())
            {
                var members = nodes.Take(sizes[i]).ToList();
                var measured = await RunAsync(cluster, members, mode, image, null, cancellationToken);
                Record(result, SizeCase(sizes[i]), Column(mode), measured, size);
                progress($"{SizeCase(sizes[i])}, {Column(mode)}: {measured}");
            }
            foreach (var column in peering ? [Off, On] : new[] { Off })
            {
                result.AddRatio(SizeCase(sizes[i]), Time, column, Alone, Time, Off, $"{column} / one node alone");
            }
        }

        if (peering && settings.ClusterFaults)
        {
            await MeasureFaultsAsync(cluster, nodes, sizes[0], image, result, progress, cancellationToken);
        }

        result.Note($"Links: every node {options.NodeLink} each way, Harbor {options.HarborLink} each way (tc tbf{(cluster.Network.DelaysSupported ? " and netem delay" : "; this kernel has no sch_netem, so links have a rate and no delay")}). "
            + $"Image: {image.Layers.Count} layers of gzip'd random bytes, {size / (double)OciImageBuilder.MiB:F0} MiB. Node 1 pulls with containerd through the CRI (and unpacks); the others pull as containerd does over HTTP and hash every blob.");
        result.Note("Each figure is one rollout: the cluster runs every case once, whatever the number of repetitions.");
        if (settings.ClusterAgentArguments.Count > 0)
        {
            result.Note($"Every agent also ran with: {string.Join(' ', settings.ClusterAgentArguments)}.");
        }
        if (!peering)
        {
            result.Note("The agent under test has no peer flags (--peer-listen): only peering off was measured, and no fault (each needs peering).");
        }
        return result;
    }

    /// <summary>
    /// The rollout of the first <paramref name="size"/> nodes with peering on, under each fault in turn: how much longer
    /// it took than without a fault, what Harbor sent, and whether every node completed. The node a fault struck may be
    /// slower for its own reasons (it was cut off, or killed): the time until every other node holds the image is given too.
    /// </summary>
    private static async Task MeasureFaultsAsync(
        SimulatedCluster cluster, IReadOnlyList<ClusterNode> nodes, int size, BuiltImage image, ScenarioResult result, Action<string> progress, CancellationToken cancellationToken)
    {
        var members = nodes.Take(size).ToList();
        var imageSize = image.Blobs.Sum(b => b.Size);
        var baseline = result.Find(SizeCase(size), On, Time)?.Median ?? double.NaN;
        RolloutFault[] faults = [new OwnerKilled(), new CorruptPeer(), new BlackholedPeer(), new SlowPeer(), new NodeJoins(nodes[size])];
        foreach (var fault in faults)
        {
            var @case = $"{SizeCase(size)}, {fault.Name}";
            var measured = await fault.RunAsync(cluster, members, image, progress, cancellationToken);
            var rollout = measured.Rollout;
            Record(result, @case, On, measured, imageSize);
            result.Add(@case, On, "extra time against no fault", "s", rollout.Elapsed.TotalSeconds - baseline);
            result.AddRatio(@case, Time, On, Alone, Time, Off, $"{On} / one node alone");
            result.AddRatio(@case, Time, On, SizeCase(size), Time, On, $"{On} / {On} without the fault");
            if (fault.Struck is { } struck)
            {
                result.Add(@case, On, "time until every other node holds the image", "s", rollout.FinishedWithout(struck).TotalSeconds);
            }
            if (fault is CorruptPeer corrupt)
            {
                result.Add(@case, On, "blob responses the proxy corrupted", "responses", corrupt.Corrupted);
            }
            progress($"{@case}: {measured} ({rollout.Elapsed.TotalSeconds - baseline:+0.0;-0.0} s against no fault)");
        }
    }

    /// <summary>Starts the members' agents (fresh caches), runs one rollout, stops them again.</summary>
    internal static async Task<MeasuredRollout> RunAsync(
        SimulatedCluster cluster, IReadOnlyList<ClusterNode> members, PeeringMode mode, BuiltImage image, Rollout.During? during, CancellationToken cancellationToken)
    {
        await cluster.StartAgentsAsync(members, mode, cancellationToken);
        try
        {
            return await MeasuredRollout.RunAsync(cluster, members, image, during, cancellationToken);
        }
        finally
        {
            await cluster.StopAgentsAsync();
        }
    }

    internal static void Record(ScenarioResult result, string @case, string column, MeasuredRollout measured, long size)
    {
        var rollout = measured.Rollout;
        result.Add(@case, column, Egress, "×", rollout.HarborEgress);
        result.Add(@case, column, PerBlobLeast, "×", rollout.LeastServedBlob);
        result.Add(@case, column, PerBlobMost, "×", rollout.MostServedBlob);
        result.Add(@case, column, Time, "s", rollout.Elapsed.TotalSeconds);
        result.Add(@case, column, Completed, "nodes", rollout.Completed);
        result.Add(@case, column, "CPU of the agents / time", "cores", measured.AgentCores);
        result.Add(@case, column, "CPU of clients, containerd and Harbor / time", "cores", measured.OtherCores);
        foreach (var (reason, fills) in measured.Fallbacks)
        {
            result.Add(@case, column, $"fills that left a peer: {reason}", "fills", fills);
        }
        foreach (var error in rollout.Errors)
        {
            result.Note($"{@case}, {column}: {error}");
        }
    }

    internal static string Column(PeeringMode mode) => mode == PeeringMode.Off ? Off : On;

    /// <summary>
    /// One node pulls alone, with no peers: the time every rollout is set against. The CPU its agent, its client (this
    /// process) and Harbor use meanwhile, and the time against what the link allows, show whether the link or the CPU set it.
    /// </summary>
    private static async Task MeasureOneNodeAsync(SimulatedCluster cluster, ClusterNode node, BuiltImage image, ScenarioResult result, Action<string> progress, CancellationToken cancellationToken)
    {
        var size = image.Blobs.Sum(b => b.Size);
        await cluster.StartAgentsAsync([node], PeeringMode.Off, cancellationToken);
        try
        {
            var measured = await MeasuredRollout.RunAsync(cluster, [node], image, null, cancellationToken);
            var rollout = measured.Rollout;
            var atLinkRate = size / (double)cluster.Options.NodeLink.BytesPerSecond;
            Record(result, Alone, Off, measured, size);
            result.Add(Alone, Off, "time / (image size / link rate)", "×", rollout.Elapsed.TotalSeconds / atLinkRate);
            progress($"{Alone}: {rollout.Elapsed.TotalSeconds:F1} s ({rollout.Elapsed.TotalSeconds / atLinkRate:F2}× size / link rate), "
                + $"CPU: agent {measured.AgentCores:F2} cores, client and Harbor {measured.OtherCores:F2} cores");
        }
        finally
        {
            await cluster.StopAgentsAsync();
        }
    }
}
