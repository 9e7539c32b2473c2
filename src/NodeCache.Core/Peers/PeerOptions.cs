namespace NodeCache.Peers;

/// <summary>How this agent talks to the others and shares with them; the defaults suit nodes on one data-centre network.</summary>
public sealed record PeerOptions
{
    /// <summary>
    /// An owner whose network stack does not answer within this (no connection accepted, or the request left unacknowledged
    /// on a kept-alive one) is passed over: containerd 1.6 has no dial timeout of its own for a mirror. A node on the same
    /// network answers in well under a millisecond, and a lost SYN is sent again only after a second, so any timeout well
    /// under a second tells the same members apart; this one leaves the rest of 300 ms for the agent's own work on a loaded
    /// node (perf/RESULTS.md#giving-up-a-silent-member).
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>From the request to the answer's headers: an owner starting a cold fill first gets Harbor's headers itself.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>No bytes from a peer for this long and the fill continues from the next origin.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A peer slower than this over a whole <see cref="RateWindow"/>, or slower than a quarter of what this agent's other
    /// transfers from peers got in theirs, is left for the next origin; 0 never judges the rate.
    /// </summary>
    public long MinBytesPerSecond { get; init; } = 2L << 20;

    public TimeSpan RateWindow { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Uploads of one blob this agent runs at once; further agents asking for it are sent to agents that already receive it.</summary>
    public int UploadsPerBlob { get; init; } = 4;

    /// <summary>Uploads this agent runs at once, of all blobs: its network card is shared by all of them.</summary>
    public int Uploads { get; init; } = 8;

    /// <summary>Members asked for one blob, in rendezvous order, before the upstream.</summary>
    public int MembersAsked { get; init; } = 2;

    /// <summary>Redirects one request follows, each to an agent receiving the blob from the one before.</summary>
    public int MaxRedirects { get; init; } = 4;

    /// <summary>Owners within this agent's zone only, so a blob crosses no zone and the upstream serves it once per zone.</summary>
    public bool ZoneLocal { get; init; }

    /// <summary>PEM CA certificates the other agents' TLS certificates must chain to; null talks plain HTTP.</summary>
    public string? TlsCaFile { get; init; }
}
