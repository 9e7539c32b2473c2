using NodeCache.Fill;

namespace NodeCache.Agent.Registry;

/// <summary>
/// Who asks for a blob: a client of this node's registry API (containerd), admitted and counted as a pull; or another
/// agent through the peer API, which proved the cluster's secret, is answered only from what this node holds or receives
/// (or, when this node owns the blob, from its one fill from the upstream), and is counted as an upload.
/// </summary>
internal sealed record BlobAsker(FillReach Reach, bool IsPeer)
{
    public static BlobAsker Client { get; } = new(FillReach.Cluster, IsPeer: false);

    /// <param name="owner">This agent owns the blob, and may fetch it from the upstream for the agent that asks.</param>
    public static BlobAsker Peer(bool owner) => new(owner ? FillReach.Upstream : FillReach.InProgress, IsPeer: true);
}
