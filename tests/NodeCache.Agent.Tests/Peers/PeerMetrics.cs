namespace NodeCache.Agent.Tests.Peers;

/// <summary>The agent's peer metrics the tests read, by their Prometheus names.</summary>
internal static class PeerMetrics
{
    /// <summary>Requests an agent sent to other agents, by result (served, unreachable, ...).</summary>
    public const string Requests = "nodecache_peer_requests_total";

    /// <summary>Fall-backs from a peer (to the next candidate or to Harbor), by reason.</summary>
    public const string Fallbacks = "nodecache_peer_fallbacks_total";

    /// <summary>Peer API requests an agent answered, by result (served, unauthorized, ...).</summary>
    public const string Answers = "nodecache_peer_answers_total";

    /// <summary>The members an agent knows, by state (ready, not_ready, avoided).</summary>
    public const string Members = "nodecache_peer_members";

    /// <summary>Blob bytes an agent's fills received from other agents.</summary>
    public const string ReceivedBytes = "nodecache_peer_received_bytes_total";

    /// <summary>Blob bytes an agent sent to other agents.</summary>
    public const string SentBytes = "nodecache_peer_sent_bytes_total";

    /// <summary>Blob responses to other agents in progress.</summary>
    public const string UploadsInFlight = "nodecache_peer_uploads_in_flight";
}
