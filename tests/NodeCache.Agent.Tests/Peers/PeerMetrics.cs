namespace NodeCache.Agent.Tests.Peers;

/// <summary>The agent's peer metrics the tests read, by their Prometheus names.</summary>
internal static class PeerMetrics
{
    /// <summary>Fall-backs from a peer (to the next candidate or to Harbor), by reason.</summary>
    public const string Fallbacks = "nodecache_peer_fallbacks_total";

    /// <summary>Peer API requests an agent answered, by result (served, unauthorized, ...).</summary>
    public const string Answers = "nodecache_peer_answers_total";

    /// <summary>The members an agent knows, by state (ready, not_ready, avoided).</summary>
    public const string Members = "nodecache_peer_members";
}
