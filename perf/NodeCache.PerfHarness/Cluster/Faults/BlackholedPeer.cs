using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster.Faults;

/// <summary>
/// The busiest peer drops every packet (in and out) for <see cref="Outage"/> mid-rollout, then comes back. Its endpoint
/// stays ready all along, as a partitioned node's does until the node controller notices: connections to it get no
/// answer, not a refusal. The others must move on within the agent's short peer timeouts; the blackholed node itself
/// finishes once it is back.
/// </summary>
internal sealed class BlackholedPeer : RolloutFault
{
    public static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    public override string Name => "one peer blackholed";

    public override async Task<IReadOnlyList<NodeOutcome>> StrikeAsync(RolloutScene scene, Action<string> progress, CancellationToken cancellationToken)
    {
        var peer = scene.BusiestUploader();
        Struck = peer;
        await peer.Machine.BlackholeAsync();
        progress($"  blackholed {peer} for {Outage.TotalSeconds:F0} s");
        try
        {
            await Task.Delay(Outage, cancellationToken);
        }
        finally
        {
            await peer.Machine.HealAsync();
        }
        return [];
    }
}
