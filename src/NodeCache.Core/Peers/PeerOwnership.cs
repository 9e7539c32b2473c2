using System.IO.Hashing;
using System.Text;
using NodeCache.Oci;

namespace NodeCache.Peers;

/// <summary>
/// Which agent owns a blob, by rendezvous (highest random weight) hashing: each ready member scores
/// XxHash3(member id ‖ digest), and the highest score owns it. Every agent computes the same order with no lookup, and a
/// member that comes or goes moves only its own blobs. The order beyond the owner names who takes over when it is gone,
/// so agents that find the owner dead all turn to the same second member, and the upstream still serves the blob once.
/// </summary>
public sealed class PeerOwnership(PeerMembership membership, PeerHealth health, bool zoneLocal)
{
    /// <summary>Owners are chosen among the members of this agent's own zone, when it has one.</summary>
    public bool ZoneLocal => zoneLocal;

    /// <summary>The ready members this agent would ask for <paramref name="digest"/>, owner first; members it avoids now are left out, itself never.</summary>
    public IReadOnlyList<PeerMember> Candidates(Digest digest)
    {
        var members = membership.Members;
        var zone = zoneLocal ? membership.Self?.Zone : null;
        var candidates = new List<(PeerMember Member, ulong Score)>(members.Count);
        foreach (var member in members)
        {
            var self = membership.IsSelf(member);
            if ((member.Ready || self) && (zone is null || member.Zone == zone) && (self || !health.IsAvoided(member.Id)))
            {
                candidates.Add((member, Score(member.Id, digest)));
            }
        }
        candidates.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Member.Id, b.Member.Id));
        return [.. candidates.Select(c => c.Member)];
    }

    /// <summary>
    /// True when this agent owns <paramref name="digest"/>: it comes first among the candidates once the members the asking
    /// agent could not reach (<paramref name="unreachable"/>) are set aside.
    /// </summary>
    public bool IsOwner(Digest digest, IReadOnlyCollection<string> unreachable) =>
        Candidates(digest).FirstOrDefault(member => !unreachable.Contains(member.Id)) is { } owner && membership.IsSelf(owner);

    /// <summary>The member's weight for the digest: XxHash3 of the member id's UTF-8 bytes followed by the digest's hash (32 bytes for sha256, 64 for sha512).</summary>
    public static ulong Score(string memberId, Digest digest)
    {
        var idLength = Encoding.UTF8.GetByteCount(memberId);
        Span<byte> input = idLength + digest.HashSize <= 512 ? stackalloc byte[idLength + digest.HashSize] : new byte[idLength + digest.HashSize];
        Encoding.UTF8.GetBytes(memberId, input);
        digest.CopyHashTo(input[idLength..]);
        return XxHash3.HashToUInt64(input);
    }
}
