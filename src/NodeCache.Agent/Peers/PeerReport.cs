using Google.Protobuf.WellKnownTypes;
using NodeCache.Control.V1;
using NodeCache.Peers;

namespace NodeCache.Agent.Peers;

/// <summary>The members as <c>nodecache peers</c> shows them: each one's state, the bytes exchanged with it, and its recent failures.</summary>
internal sealed class PeerReport(PeerMembership membership, PeerHealth health, PeerOwnership ownership)
{
    public ListPeersResponse Snapshot()
    {
        var response = new ListPeersResponse { Self = membership.SelfId, ZoneLocal = ownership.ZoneLocal };
        foreach (var member in membership.Members)
        {
            var record = health.Record(member.Id);
            var peer = new PeerInfo
            {
                Url = member.Id,
                Node = member.NodeName ?? "",
                Zone = member.Zone ?? "",
                State = State(member, record),
                ReceivedBytes = record.BytesReceived,
                SentBytes = record.BytesSent,
                Requests = record.Requests,
                Failures = record.Failures,
                AvoidedUntil = record.AvoidedUntil is { } until ? Timestamp.FromDateTimeOffset(until) : null,
            };
            peer.RecentErrors.AddRange(record.RecentErrors.Select(error => new PeerFailure
            {
                At = Timestamp.FromDateTimeOffset(error.At),
                Reason = PeerMetrics.Label(error.Reason),
                Detail = error.Detail,
            }));
            response.Peers.Add(peer);
        }
        return response;
    }

    private string State(PeerMember member, PeerRecord record) =>
        membership.IsSelf(member) ? "self"
        : !member.Ready ? "not_ready"
        : record.AvoidedUntil is not null ? "avoided"
        : "ready";
}
