using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster;

/// <summary>
/// A rollout with the cores it kept busy on average (the agents', and everything else's: clients, containerd, Harbor, the
/// API server), and why its fills left a peer for the next origin, summed over the agents (<c>nodecache_peer_fallbacks_total</c>).
/// </summary>
internal sealed record MeasuredRollout(RolloutResult Rollout, double AgentCores, double OtherCores, IReadOnlyDictionary<string, double> Fallbacks)
{
    public static async Task<MeasuredRollout> RunAsync(
        SimulatedCluster cluster, IReadOnlyList<ClusterNode> nodes, BuiltImage image, NodeCache.Testing.Cluster.Rollout.During? during, CancellationToken cancellationToken)
    {
        var before = ClusterCpu.Sample(cluster);
        var rollout = await NodeCache.Testing.Cluster.Rollout.RunAsync(cluster, nodes, image, during, cancellationToken);
        var (agents, others) = ClusterCpu.Sample(cluster).Since(before);
        var fallbacks = await FallbacksAsync(cluster, cancellationToken);
        return new MeasuredRollout(rollout, agents / rollout.Elapsed.TotalSeconds, others / rollout.Elapsed.TotalSeconds, fallbacks);
    }

    public override string ToString() =>
        $"{Rollout.Elapsed.TotalSeconds:F1} s, Harbor sent {Rollout.HarborEgress:F2}× the image, {Rollout.Completed}/{Rollout.Nodes.Count} nodes, CPU {AgentCores:F2} + {OtherCores:F2} cores"
        + (Fallbacks.Count == 0 ? "" : $"; peer fallbacks: {string.Join(", ", Fallbacks.Select(f => $"{f.Key} {f.Value:0}"))}");

    // Every running agent's count, whichever nodes took part: an agent that did not has none.
    private static async Task<IReadOnlyDictionary<string, double>> FallbacksAsync(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        var sums = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var node in cluster.Nodes.Where(n => n.Agent is not null))
        {
            try
            {
                var metrics = await AgentMetrics.ReadAsync(node.Http, ClusterNode.MirrorUrl, cancellationToken);
                foreach (var (labels, value) in metrics.Series("nodecache_peer_fallbacks_total"))
                {
                    if (value > 0 && labels.TryGetValue("reason", out var reason))
                    {
                        sums[reason] = sums.GetValueOrDefault(reason) + value;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // An agent a fault killed has no metrics to give.
            }
        }
        return sums;
    }
}
