using System.Diagnostics;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster;

/// <summary>
/// One cold rollout: every node's agent has just started with an empty cache, and every node pulls the image at the
/// same moment, as when a Deployment's pods land on all of them at once. It ends when the last node holds the image
/// (containerd committed it, or the HTTP client hashed every blob). A fault may act while it runs and may bring nodes
/// of its own whose pulls count too. Harbor's egress is what its log says it wrote for blob GETs meanwhile.
/// </summary>
internal static class Rollout
{
    /// <summary>What a fault does during a rollout: it gets the rollout's clock and returns the pulls of nodes it added, if any.</summary>
    public delegate Task<IReadOnlyList<NodeOutcome>> During(Stopwatch clock, CancellationToken cancellationToken);

    public static async Task<RolloutResult> RunAsync(SimulatedCluster cluster, IReadOnlyList<ClusterNode> nodes, BuiltImage image, During? during, CancellationToken cancellationToken)
    {
        foreach (var node in nodes)
        {
            await node.ForgetAsync(image, cancellationToken);
        }
        var harborBefore = await cluster.HarborBlobBytesAsync(cancellationToken);
        var cpuBefore = ClusterCpu.Sample(cluster);
        var clock = Stopwatch.StartNew();
        var pulls = nodes.Select(node => Task.Run(() => PullAsync(node, image, clock, cancellationToken), cancellationToken)).ToList();
        var added = during is null ? Task.FromResult<IReadOnlyList<NodeOutcome>>([]) : during(clock, cancellationToken);
        var outcomes = (await Task.WhenAll(pulls)).Concat(await added).ToList();
        var elapsed = clock.Elapsed;
        var (agents, others) = ClusterCpu.Sample(cluster).Since(cpuBefore);
        var harbor = await cluster.HarborBlobBytesAsync(cancellationToken) - harborBefore;
        return new RolloutResult(outcomes, elapsed, harbor, agents / elapsed.TotalSeconds, others / elapsed.TotalSeconds);
    }

    /// <summary>One node's pull from the rollout's start: its end on the rollout's clock, or why it failed.</summary>
    public static async Task<NodeOutcome> PullAsync(ClusterNode node, BuiltImage image, Stopwatch clock, CancellationToken cancellationToken)
    {
        try
        {
            var pull = await node.PullAsync(image, cancellationToken);
            return new NodeOutcome(node, clock.Elapsed, pull, null);
        }
        catch (Exception e) when (e is PullFailedException or InvalidOperationException or HttpRequestException or IOException)
        {
            return new NodeOutcome(node, clock.Elapsed, null, e.Message.Split('\n')[0]);
        }
    }
}

/// <summary>How one node's pull ended: when, on the rollout's clock, and the pull, or the error that ended it.</summary>
internal sealed record NodeOutcome(ClusterNode Node, TimeSpan FinishedAt, NodePull? Pull, string? Error);

/// <summary>
/// Every node's outcome, the time until the last one finished, the bytes Harbor sent for blobs meanwhile, and the cores
/// the agents and everything else (clients, containerd, Harbor, the API server) kept busy on average.
/// </summary>
internal sealed record RolloutResult(IReadOnlyList<NodeOutcome> Nodes, TimeSpan Elapsed, long HarborBytes, double AgentCores, double OtherCores)
{
    public int Completed => Nodes.Count(n => n.Pull is not null);

    public IEnumerable<string> Errors => Nodes.Where(n => n.Error is not null).Select(n => $"{n.Node.Name}: {n.Error}");
}
