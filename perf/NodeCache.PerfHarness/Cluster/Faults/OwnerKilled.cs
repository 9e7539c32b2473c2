using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster.Faults;

/// <summary>
/// The busiest peer's agent is killed (SIGKILL) mid-rollout and the kubelet starts it again at once with its cache. Its
/// endpoint stays ready until the probe has failed three times: the others must not wait on it meanwhile. Its own
/// containerd, or client, falls back to Harbor as hosts.toml tells it, until the agent is back.
/// </summary>
internal sealed class OwnerKilled : RolloutFault
{
    public override string Name => "owner killed mid-rollout";

    public override async Task<IReadOnlyList<NodeOutcome>> StrikeAsync(RolloutScene scene, Action<string> progress, CancellationToken cancellationToken)
    {
        var owner = scene.BusiestUploader();
        Struck = owner;
        owner.KillAgent();
        progress($"  killed {owner}'s agent");
        await owner.RestartAgentAsync(cancellationToken);
        return [];
    }
}
