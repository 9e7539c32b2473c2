using System.Net;
using NodeCache.Oci;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>
/// Five nodes pull one image at once, cold, while something goes wrong with one of them: every node still ends with the
/// right bytes (containerd on node 1 commits only what hashes to its digest; the others hash every byte), the others are
/// not held up by the broken one, and Harbor is not made to send the image once per node. Faults strike when the nodes
/// together have received <see cref="Midway"/> of the rollout, by their links' counters.
/// </summary>
[Collection(PeerClusterFixture.Collection)]
public sealed class PeerFaultTests(PeerClusterFixture fixture, ITestOutputHelper output)
{
    private const double Midway = 0.3;

    private SimulatedCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Five_nodes_pulling_at_once_take_each_blob_from_Harbor_whole_once()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var image = await fixture.PushImageAsync("app");
        var mark = await fixture.HarborMarkAsync();

        var rollout = await Rollout.RunAsync(Cluster, fixture.Nodes, image, cancellationToken: timeout.Token);

        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(rollout);
        PeerClusterFixture.AssertHeldIntact(fixture.Nodes, image);
        // One whole GET per blob, by its owner. On a loaded machine an owner may fall under the minimum peer rate and an
        // asking agent finish the blob from Harbor with a Range: never from its first byte.
        var gets = PeerClusterFixture.AgentBlobGets(await fixture.HarborRequestsSinceAsync(mark)).ToList();
        Assert.All(image.Blobs, blob => Assert.Single(gets, r => r.Reference == blob.Digest.ToString() && r.Status == 200));
        Assert.All(gets.Where(r => r.Status == 206), r => Assert.True(r.Written < image.Blobs.Single(b => b.Digest.ToString() == r.Reference).Size, r.ToString()));
        output.WriteLine($"Harbor sent {rollout.HarborEgress:F2}× the image ({rollout.LeastServedBlob:F2}–{rollout.MostServedBlob:F2}× per blob)");
    }

    [Fact]
    public async Task An_owner_killed_mid_rollout_costs_the_others_a_fallback_not_a_pull()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var image = await fixture.PushImageAsync("owner-killed");
        var mark = await fixture.HarborMarkAsync();
        ClusterNode? owner = null;
        var killedAt = TimeSpan.Zero;
        fixture.Disturbed();

        var rollout = await Rollout.RunAsync(Cluster, fixture.Nodes, image, async (scene, cancellationToken) =>
        {
            await scene.WaitUntilThroughAsync(Midway, cancellationToken);
            owner = scene.BusiestUploader();
            owner.KillAgent();
            killedAt = scene.Clock.Elapsed;
            return [];
        }, timeout.Token);
        // The kubelet starts the container again; its own client went to Harbor meanwhile, as hosts.toml lets it.
        await owner!.RestartAgentAsync(timeout.Token);
        await owner.WaitEndpointReadyAsync(timeout.Token);

        var others = fixture.Nodes.Where(n => n != owner).ToList();
        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(rollout, except: owner);
        PeerClusterFixture.AssertHeldIntact(others, image);
        // Far below containerd's 30 s dial timeout: the others moved on from the dead owner at once.
        Assert.True(rollout.FinishedWithout(owner) - killedAt < TimeSpan.FromSeconds(10),
            $"the others finished {rollout.FinishedWithout(owner) - killedAt} after {owner} was killed");
        // The dead owner's blobs were fetched once more, by the member that took over for all the others.
        PeerClusterFixture.AssertBlobsFetchedWholeAtMost(await fixture.HarborRequestsSinceAsync(mark), 2);
        Assert.True(await PeerClusterFixture.SumMetricAsync(others, PeerMetrics.Fallbacks) > 0, "no agent counted a fallback");
    }

    [Fact]
    public async Task A_peer_serving_wrong_bytes_is_caught_counted_and_avoided_and_every_node_gets_the_blob_from_Harbor()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var liar = fixture.Nodes[^1];
        var honest = fixture.Nodes.Where(n => n != liar).ToList();
        await liar.StopAgentAsync();
        var address = await Cluster.Network.AddHostAddressAsync();
        await using var proxy = await FaultProxy.StartAsync(liar.PeerUrl, new IPEndPoint(address, SimulatedCluster.PeerPort), timeout.Token);
        proxy.Mode = FaultMode.Corrupt;
        liar.AdvertisedAddress = address;
        try
        {
            await Cluster.StartAgentsAsync([liar], PeeringMode.Service, timeout.Token);
            await fixture.SettleAsync(timeout.Token);
            // The liar serves what it owns: an image of which it owns nothing would prove nothing.
            var image = await fixture.PushImageAsync("corrupt");
            for (var attempt = 0; attempt < 8 && !image.Blobs.Any(b => fixture.Ranked(b.Digest)[0] == liar); attempt++)
            {
                image = await fixture.PushImageAsync("corrupt");
            }
            var lied = image.Blobs.Where(b => fixture.Ranked(b.Digest)[0] == liar).ToList();
            Assert.NotEmpty(lied);
            var wrongBefore = await PeerClusterFixture.SumMetricAsync(honest, PeerMetrics.Fallbacks, ("reason", "wrong_bytes"));
            var mark = await fixture.HarborMarkAsync();
            fixture.Disturbed();

            var rollout = await Rollout.RunAsync(Cluster, fixture.Nodes, image, cancellationToken: timeout.Token);

            // No pull is lost: a node's client whose agent found the bytes wrong gets the blob again (from its agent's new
            // fetch, or from Harbor itself as hosts.toml lets it), and commits only what hashes right.
            Assert.True(rollout.Completed == rollout.Nodes.Count, string.Join('\n', rollout.Errors));
            PeerClusterFixture.AssertHeldIntact(fixture.Nodes, image);
            Assert.Contains(proxy.Requests(), r => r.Method == "GET" && r.BlobDigest is not null && r.Status is 200 or 206);
            Assert.True(await PeerClusterFixture.SumMetricAsync(honest, PeerMetrics.Fallbacks, ("reason", "wrong_bytes")) > wrongBefore, "no agent counted the wrong bytes");
            Assert.True(await PeerClusterFixture.SumMetricAsync(honest, PeerMetrics.Members, ("state", "avoided")) > 0, "no agent avoids the liar");
            // The agents that were lied to fetched the blob from Harbor themselves.
            var refetched = PeerClusterFixture.AgentBlobGets(await fixture.HarborRequestsSinceAsync(mark))
                .Where(r => lied.Any(b => b.Digest.ToString() == r.Reference) && r.RemoteAddress != liar.Machine.Address.ToString())
                .ToList();
            Assert.NotEmpty(refetched);
        }
        finally
        {
            await liar.StopAgentAsync();
            liar.AdvertisedAddress = liar.Machine.Address;
            await Cluster.StartAgentsAsync([liar], PeeringMode.Service, timeout.Token);
        }
    }

    [Fact]
    public async Task A_blackholed_peer_holds_up_no_other_node()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var image = await fixture.PushImageAsync("blackhole");
        var mark = await fixture.HarborMarkAsync();
        ClusterNode? peer = null;
        var struckAt = TimeSpan.Zero;
        var healedAt = TimeSpan.Zero;
        fixture.Disturbed();

        var rollout = await Rollout.RunAsync(Cluster, fixture.Nodes, image, async (scene, cancellationToken) =>
        {
            await scene.WaitUntilThroughAsync(Midway, cancellationToken);
            peer = scene.BusiestUploader();
            await peer.Machine.BlackholeAsync();
            struckAt = scene.Clock.Elapsed;
            try
            {
                // Long enough that a node waiting on the blackholed peer could not finish before it heals.
                await Task.Delay(TimeSpan.FromSeconds(8), cancellationToken);
            }
            finally
            {
                await peer.Machine.HealAsync();
                healedAt = scene.Clock.Elapsed;
            }
            return [];
        }, timeout.Token);

        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(rollout);
        PeerClusterFixture.AssertHeldIntact(fixture.Nodes, image);
        Assert.True(rollout.FinishedWithout(peer!) < healedAt,
            $"the others finished {rollout.FinishedWithout(peer!) - struckAt} after {peer} was blackholed, not before it came back {healedAt - struckAt} after");
        // A blob the blackholed peer owned and was still fetching is fetched once more, by the member that took over.
        PeerClusterFixture.AssertBlobsFetchedWholeAtMost(await fixture.HarborRequestsSinceAsync(mark), 2);
        Assert.True(await PeerClusterFixture.SumMetricAsync(fixture.Nodes.Where(n => n != peer), PeerMetrics.Fallbacks) > 0, "no agent counted a fallback");
    }

    [Fact]
    public async Task A_peer_slowed_to_1_MB_per_second_is_left_for_the_byte_reached_not_waited_for()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var image = await fixture.PushImageAsync("slow");
        var mark = await fixture.HarborMarkAsync();
        ClusterNode? peer = null;
        var struckAt = TimeSpan.Zero;
        fixture.Disturbed();

        RolloutResult rollout;
        try
        {
            rollout = await Rollout.RunAsync(Cluster, fixture.Nodes, image, async (scene, cancellationToken) =>
            {
                await scene.WaitUntilThroughAsync(Midway, cancellationToken);
                peer = scene.BusiestUploader();
                await peer.Machine.ShapeAsync(PeerClusterFixture.NodeLink, LinkShape.Slow);
                struckAt = scene.Clock.Elapsed;
                return [];
            }, timeout.Token);
        }
        finally
        {
            if (peer is not null)
            {
                await peer.Machine.ShapeAsync(PeerClusterFixture.NodeLink);
            }
        }

        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(rollout);
        PeerClusterFixture.AssertHeldIntact(fixture.Nodes, image);
        // What the slowed peer still had to send would take it longer than this at 1 MB/s to every node it served.
        Assert.True(rollout.FinishedWithout(peer!) - struckAt < TimeSpan.FromSeconds(8),
            $"the others finished {rollout.FinishedWithout(peer!) - struckAt} after {peer}'s uplink slowed to {LinkShape.Slow}");
        PeerClusterFixture.AssertBlobsFetchedWholeAtMost(await fixture.HarborRequestsSinceAsync(mark), 1);
    }

    [Fact]
    public async Task A_node_that_joins_mid_rollout_pulls_the_image_and_the_others_complete()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var image = await fixture.PushImageAsync("join");
        var newcomer = fixture.Newcomer;

        try
        {
            var rollout = await Rollout.RunAsync(Cluster, fixture.Nodes, image, async (scene, cancellationToken) =>
            {
                await scene.WaitUntilThroughAsync(Midway, cancellationToken);
                await Cluster.StartAgentsAsync([newcomer], PeeringMode.Service, cancellationToken);
                return [await Rollout.PullAsync(newcomer, image, scene.Clock, cancellationToken)];
            }, timeout.Token);

            PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(rollout);
            PeerClusterFixture.AssertHeldIntact([.. fixture.Nodes, newcomer], image);
            Assert.True(rollout.HarborEgress < 2, $"Harbor sent {rollout.HarborEgress:F2}× the image");
        }
        finally
        {
            await newcomer.StopAgentAsync();
        }
    }
}
