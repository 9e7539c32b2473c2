using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Fill;

/// <summary>Where a fill may look for a blob's bytes.</summary>
public enum FillReach
{
    /// <summary>Wherever the agent's routing says: the cluster's other agents first when peering is on, the upstream last.</summary>
    Cluster,

    /// <summary>Straight from the upstream: the agent is the blob's owner, fetching it for itself and for the agents that asked it.</summary>
    Upstream,

    /// <summary>Nowhere: only a fill already in progress is joined (or the blob it just committed served), and none is started.</summary>
    InProgress,
}

/// <summary>What a new fill is for: the blob, the route and repository its upstream requests name, and whose credentials they carry.</summary>
/// <param name="Identity">A pod's pull secret, when not the agent's own credentials.</param>
public sealed record FillRequest(UpstreamRoute Route, RepositoryName Repository, Digest Digest, PullIdentity? Identity, FillReach Reach);

/// <summary>Decides where a new fill takes its bytes from, in the order they are tried.</summary>
public interface IFillRouting
{
    /// <summary>The origins to try in order; <paramref name="upstream"/> is the last resort, followed only by origins for outages (<see cref="BlobOrigin.OnlyInOutage"/>).</summary>
    IReadOnlyList<BlobOrigin> Origins(FillRequest request, BlobOrigin upstream);
}

/// <summary>Every fill from the upstream alone: an agent without peers.</summary>
public sealed class UpstreamRouting : IFillRouting
{
    public static UpstreamRouting Instance { get; } = new();

    public IReadOnlyList<BlobOrigin> Origins(FillRequest request, BlobOrigin upstream) => [upstream];
}
