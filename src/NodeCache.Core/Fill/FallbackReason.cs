namespace NodeCache.Fill;

/// <summary>Why a fill moved on from an origin to the next.</summary>
public enum FallbackReason
{
    /// <summary>No connection within the connect timeout, or the connection was refused.</summary>
    Unreachable,

    /// <summary>The origin holds no such blob and will not fetch it.</summary>
    NotFound,

    /// <summary>
    /// The origin refused the request (a peer that does not accept this agent's proof), or is a peer whose certificate this
    /// agent does not accept.
    /// </summary>
    Refused,

    /// <summary>An error answer, a broken connection, or an answer that does not fit the blob.</summary>
    Failed,

    /// <summary>No bytes for longer than the stall timeout.</summary>
    Stalled,

    /// <summary>Bytes came far more slowly than the minimum rate.</summary>
    Slow,

    /// <summary>The blob it took part in did not hash to its digest.</summary>
    WrongBytes,
}
