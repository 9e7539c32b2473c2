using Microsoft.Extensions.Logging;
using NodeCache.Fill;

namespace NodeCache.Peers;

/// <summary>
/// Where a fill takes a blob's bytes from when agents share: the blob's owner first, then the member that takes over from
/// it, then the upstream, and while the upstream cannot answer, any agent that holds the blob. A fill for another agent
/// (this one owning the blob), and one made with a pod's own pull secret (which no other agent holds), go to the upstream
/// alone.
/// </summary>
public sealed class PeerRouting(
    PeerOwnership ownership, PeerMembership membership, PeerClient client, PeerHealth health, PeerMetrics metrics, PeerOptions options, ILogger logger)
    : IFillRouting
{
    public IReadOnlyList<BlobOrigin> Origins(FillRequest request, BlobOrigin upstream)
    {
        if (request.Reach == FillReach.Upstream || request.Identity is not null)
        {
            return [upstream];
        }
        var origins = new List<BlobOrigin>(options.MembersAsked + 2);
        var unreachable = new PassedOver();
        foreach (var candidate in ownership.Candidates(request.Digest))
        {
            // Members after this agent in the order would not fetch it before it does: from here on it is the owner.
            if (membership.IsSelf(candidate) || origins.Count == options.MembersAsked)
            {
                break;
            }
            origins.Add(new PeerOrigin(candidate, unreachable, request.Route.Registry, request.Repository, client, membership, health, metrics, options, logger));
        }
        origins.Add(upstream);
        origins.Add(new PeerHolders(request.Route.Registry, request.Repository, client, membership, health, metrics, options, logger));
        return origins;
    }
}
