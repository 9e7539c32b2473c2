using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster;

/// <summary>A rollout with the cores it kept busy on average: the agents', and everything else's (clients, containerd, Harbor, the API server).</summary>
internal sealed record MeasuredRollout(RolloutResult Rollout, double AgentCores, double OtherCores)
{
    public static async Task<MeasuredRollout> RunAsync(
        SimulatedCluster cluster, IReadOnlyList<ClusterNode> nodes, BuiltImage image, NodeCache.Testing.Cluster.Rollout.During? during, CancellationToken cancellationToken)
    {
        var before = ClusterCpu.Sample(cluster);
        var rollout = await NodeCache.Testing.Cluster.Rollout.RunAsync(cluster, nodes, image, during, cancellationToken);
        var (agents, others) = ClusterCpu.Sample(cluster).Since(before);
        return new MeasuredRollout(rollout, agents / rollout.Elapsed.TotalSeconds, others / rollout.Elapsed.TotalSeconds);
    }

    public override string ToString() =>
        $"{Rollout.Elapsed.TotalSeconds:F1} s, Harbor sent {Rollout.HarborEgress:F2}× the image, {Rollout.Completed}/{Rollout.Nodes.Count} nodes, CPU {AgentCores:F2} + {OtherCores:F2} cores";
}
