using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster.Faults;

/// <summary>
/// Something that goes wrong during a rollout with peering on. It may set up before the agents start (a peer that lies
/// from the start), acts once the rollout is <see cref="Share"/> of the way through (bytes received by all nodes against
/// what they must receive, read from their links' counters), and puts the cluster back afterwards.
/// </summary>
internal abstract class RolloutFault
{
    /// <summary>How far through the rollout the fault strikes.</summary>
    public const double Share = 0.3;

    public abstract string Name { get; }

    /// <summary>The node the fault struck, once it has; the others' pulls are what the fault must not hold up.</summary>
    public ClusterNode? Struck { get; protected set; }

    /// <summary>Before the members' agents start.</summary>
    public virtual Task PrepareAsync(SimulatedCluster cluster, IReadOnlyList<ClusterNode> members, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Mid-rollout; returns the pulls of any node the fault brought into the rollout.</summary>
    public abstract Task<IReadOnlyList<NodeOutcome>> StrikeAsync(RolloutScene scene, Action<string> progress, CancellationToken cancellationToken);

    /// <summary>After the rollout and its agents are gone: whatever the fault changed is as before.</summary>
    public virtual Task RestoreAsync(SimulatedCluster cluster) => Task.CompletedTask;

    /// <summary>The rollout of <paramref name="members"/> with this fault, from fresh agents to restored cluster.</summary>
    public async Task<MeasuredRollout> RunAsync(SimulatedCluster cluster, IReadOnlyList<ClusterNode> members, BuiltImage image, Action<string> progress, CancellationToken cancellationToken)
    {
        await PrepareAsync(cluster, members, cancellationToken);
        try
        {
            return await ClusterRollout.RunAsync(cluster, members, PeeringMode.Service, image, async (scene, token) =>
            {
                await scene.WaitUntilThroughAsync(Share, token);
                progress($"  {Share:P0} through after {scene.Clock.Elapsed.TotalSeconds:F1} s");
                return await StrikeAsync(scene, progress, token);
            }, cancellationToken);
        }
        finally
        {
            await RestoreAsync(cluster);
        }
    }
}
