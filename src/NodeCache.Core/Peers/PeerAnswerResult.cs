namespace NodeCache.Peers;

/// <summary>How this agent answered a request to its peer API, as <c>nodecache_peer_answers_total</c> counts it.</summary>
public enum PeerAnswerResult
{
    /// <summary>The blob was sent (from the cache or following its fill), or a manifest lent.</summary>
    Served,

    /// <summary>The blob request was sent to a member that receives the blob from here, beyond this agent's upload bounds.</summary>
    Redirected,

    /// <summary>This agent neither holds nor owns the blob, or holds no such manifest.</summary>
    NotFound,

    /// <summary>This agent holds the manifest as denied by the upstream, and said so.</summary>
    Denied,

    /// <summary>The request did not prove the cluster's peer secret.</summary>
    Unauthorized,

    /// <summary>Not a request for a blob by digest or a manifest.</summary>
    BadRequest,

    /// <summary>The blob could not be sent: an error answer, or a transfer that broke.</summary>
    Failed,
}
