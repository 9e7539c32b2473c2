using NodeCache.Oci;
using NodeCache.Peers;

namespace NodeCache.Core.Tests.Peers;

/// <summary>Rendezvous ownership: every agent computes the same owner, and a membership change moves only the blobs it must.</summary>
public sealed class PeerOwnershipTests
{
    private static readonly Digest[] Blobs = [.. Enumerable.Range(0, 2000).Select(i => Digest.Compute(BitConverter.GetBytes(i)))];

    [Fact]
    public void Every_agent_computes_the_same_order_whatever_order_its_list_is_in()
    {
        var urls = Urls(10);
        var first = Ownership(urls[0], urls);
        var other = Ownership(urls[7], [.. urls.AsEnumerable().Reverse()]);

        foreach (var blob in Blobs.Take(200))
        {
            Assert.Equal(first.Candidates(blob).Select(m => m.Id), other.Candidates(blob).Select(m => m.Id));
        }
    }

    [Fact]
    public void Blobs_spread_over_the_members_and_a_member_that_leaves_moves_only_its_own()
    {
        var urls = Urls(10);
        var before = Ownership(urls[0], urls);
        var owners = Blobs.ToDictionary(b => b, b => before.Candidates(b)[0].Id);
        // Each of 10 members owns about a tenth of 2,000 blobs.
        Assert.All(owners.Values.GroupBy(o => o), group => Assert.InRange(group.Count(), 120, 280));

        var leaving = urls[3];
        var after = Ownership(urls[0], [.. urls.Where(u => u != leaving)]);
        foreach (var blob in Blobs)
        {
            var owner = after.Candidates(blob)[0].Id;
            if (owners[blob] != leaving)
            {
                Assert.Equal(owners[blob], owner);
            }
            else
            {
                // Its blobs go to the member that came second for each of them.
                Assert.Equal(before.Candidates(blob)[1].Id, owner);
            }
        }
    }

    [Fact]
    public void An_avoided_member_is_passed_over_but_this_agent_never_passes_itself_over()
    {
        var urls = Urls(5);
        var health = new PeerHealth(TimeProvider.System);
        var membership = Membership(urls[0], urls);
        var ownership = new PeerOwnership(membership, health, zoneLocal: false);
        var blob = Blobs.First(b => ownership.Candidates(b)[0].Id != urls[0]);
        var owner = ownership.Candidates(blob)[0].Id;

        health.Failed(owner, NodeCache.Fill.FallbackReason.Unreachable, "connection refused");
        health.Failed(urls[0], NodeCache.Fill.FallbackReason.Unreachable, "connection refused");

        Assert.DoesNotContain(owner, ownership.Candidates(blob).Select(m => m.Id));
        Assert.Contains(urls[0], ownership.Candidates(blob).Select(m => m.Id));
    }

    [Fact]
    public void An_agent_is_the_owner_once_the_members_the_asking_agent_could_not_reach_are_set_aside()
    {
        var urls = Urls(4);
        var blob = Blobs[0];
        var order = Ownership(urls[0], urls).Candidates(blob).Select(m => m.Id).ToList();
        var second = Ownership(order[1], urls);

        Assert.False(second.IsOwner(blob, []));
        Assert.True(second.IsOwner(blob, [order[0]]));
        Assert.True(Ownership(order[0], urls).IsOwner(blob, []));
    }

    [Fact]
    public void With_owners_in_the_zone_only_a_blob_is_owned_by_a_member_of_the_asking_agents_zone()
    {
        var urls = Urls(9);
        var members = urls.Select((url, i) => PeerMember.Parse(url, $"node-{i}", zone: $"zone-{i % 3}")).ToList();
        var membership = new PeerMembership(urls[4]);
        membership.Replace(members);
        var ownership = new PeerOwnership(membership, new PeerHealth(TimeProvider.System), zoneLocal: true);

        foreach (var blob in Blobs.Take(100))
        {
            Assert.All(ownership.Candidates(blob), member => Assert.Equal("zone-1", member.Zone));
        }
    }

    [Fact]
    public void Members_that_are_not_ready_own_nothing()
    {
        var urls = Urls(3);
        var membership = new PeerMembership(urls[0]);
        membership.Replace([PeerMember.Parse(urls[0]), PeerMember.Parse(urls[1], ready: false), PeerMember.Parse(urls[2])]);
        var ownership = new PeerOwnership(membership, new PeerHealth(TimeProvider.System), zoneLocal: false);

        Assert.All(Blobs.Take(100), blob => Assert.DoesNotContain(urls[1], ownership.Candidates(blob).Select(m => m.Id)));
    }

    [Fact]
    public void The_score_is_xxhash3_of_the_member_id_followed_by_the_digest_bytes()
    {
        var digest = Digest.Compute("layer"u8);
        var input = new byte[64];
        "http://10.0.0.1:5051"u8.CopyTo(input);
        digest.CopyHashTo(input.AsSpan(20));

        Assert.Equal(System.IO.Hashing.XxHash3.HashToUInt64(input.AsSpan(0, 52)), PeerOwnership.Score("http://10.0.0.1:5051", digest));
    }

    private static PeerOwnership Ownership(string self, IReadOnlyList<string> urls) =>
        new(Membership(self, urls), new PeerHealth(TimeProvider.System), zoneLocal: false);

    private static PeerMembership Membership(string self, IReadOnlyList<string> urls)
    {
        var membership = new PeerMembership(self);
        membership.Replace(urls.Select(url => PeerMember.Parse(url)));
        return membership;
    }

    private static string[] Urls(int count) =>
        [.. Enumerable.Range(0, count).Select(i => $"http://10.0.0.{i + 1}:5051")];
}
