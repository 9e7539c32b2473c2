using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster.Faults;

/// <summary>
/// The busiest peer's uplink drops to 1 MB/s mid-rollout and stays there: a peer far slower than expected. What it
/// receives is not slowed, so its own pull is not what is measured; the others must leave it for Harbor or another
/// holder, resuming from the byte they reached.
/// </summary>
internal sealed class SlowPeer : RolloutFault
{
    private ClusterNode? _slowed;

    public override string Name => "one peer slowed to 1 MB/s";

    public override async Task<IReadOnlyList<NodeOutcome>> StrikeAsync(RolloutScene scene, Action<string> progress, CancellationToken cancellationToken)
    {
        _slowed = scene.BusiestUploader();
        Struck = _slowed;
        await _slowed.Machine.ShapeAsync(scene.Cluster.Options.NodeLink, LinkShape.Slow);
        progress($"  slowed {_slowed}'s uplink to {LinkShape.Slow}");
        return [];
    }

    public override async Task RestoreAsync(SimulatedCluster cluster)
    {
        if (_slowed is not null)
        {
            await _slowed.Machine.ShapeAsync(cluster.Options.NodeLink);
            _slowed = null;
        }
    }
}
