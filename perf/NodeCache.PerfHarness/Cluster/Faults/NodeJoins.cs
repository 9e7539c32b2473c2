using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster.Faults;

/// <summary>
/// A node joins mid-rollout: its agent starts, its endpoint turns ready (the members' ownership moves for the blobs it now
/// owns), and it pulls the image too. The rollout ends when it holds the image as well.
/// </summary>
internal sealed class NodeJoins(ClusterNode newcomer) : RolloutFault
{
    public override string Name => "a node joins mid-rollout";

    public override async Task<IReadOnlyList<NodeOutcome>> StrikeAsync(RolloutScene scene, Action<string> progress, CancellationToken cancellationToken)
    {
        Struck = newcomer;
        await newcomer.ForgetAsync(scene.Image, cancellationToken);
        await scene.Cluster.StartAgentsAsync([newcomer], PeeringMode.Service, cancellationToken);
        progress($"  {newcomer} joined after {scene.Clock.Elapsed.TotalSeconds:F1} s");
        return [await Rollout.PullAsync(newcomer, scene.Image, scene.Clock, cancellationToken)];
    }
}
