namespace NodeCache.Peers;

/// <summary>How a request this agent sent to another agent ended, as <c>nodecache_peer_requests_total</c> counts it.</summary>
public enum PeerRequestResult
{
    /// <summary>The agent sent the blob, or a manifest whose bytes hash to the digest it names.</summary>
    Served,

    /// <summary>The agent redirected the blob request to a member that already receives the blob.</summary>
    Redirected,

    /// <summary>The agent neither holds nor fetches the blob, or does not hold the manifest.</summary>
    NotFound,

    /// <summary>The agent holds the manifest as denied by the upstream.</summary>
    Denied,

    /// <summary>The agent answered 401 or 403: it does not accept this agent's proof (another secret, or a clock far off).</summary>
    Refused,

    /// <summary>
    /// The TLS handshake failed on this agent's side, before any request was sent: the agent's certificate does not chain
    /// to <c>--peer-tls-ca</c> (without it, the system's roots do not certify it for its address).
    /// </summary>
    Untrusted,

    /// <summary>No connection within the connect timeout, the connection was refused, or the request went unacknowledged.</summary>
    Unreachable,

    /// <summary>Connected, but no headers within the response timeout.</summary>
    Stalled,

    /// <summary>An error answer, a broken connection, or an answer that does not fit what was asked (a manifest whose bytes do not match its digest).</summary>
    Failed,
}
