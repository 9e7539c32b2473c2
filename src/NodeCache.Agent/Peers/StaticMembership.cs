using NodeCache.Peers;

namespace NodeCache.Agent.Peers;

/// <summary>Membership from <c>--peers</c>: every listed agent, ready from the start; one that is down is found out by asking it and avoided.</summary>
internal sealed class StaticMembership(IReadOnlyList<string> peers, PeerMembership membership, ILogger<StaticMembership> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        membership.Replace(peers.Select(url => PeerMember.Parse(url)));
        logger.LogInformation("Peering as {Self} with {Count} agents: {Peers}", membership.SelfId, peers.Count, string.Join(", ", peers));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
