using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>A peer that sends wrong bytes, stalls or crawls costs a fallback, never a wrong blob and never a download from zero.</summary>
public sealed class PeerFallbackTests
{
    private static readonly PeerCluster.Member[] ThreeProxied = [PeerCluster.Member.Proxied, PeerCluster.Member.Proxied, PeerCluster.Member.Proxied];

    [Fact]
    public async Task A_peer_that_sends_wrong_bytes_breaks_the_transfer_caches_nothing_is_avoided_and_the_blob_comes_from_the_upstream()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync("team/corrupt", [8 * OciImageBuilder.MiB], seed: 1421, ThreeProxied, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var (owner, asking) = (cluster.Owner(layer.Digest), cluster.Ranked(layer.Digest)[^1]);
        owner.Proxy!.Mode = FaultMode.Corrupt;

        var first = await cluster.Download(asking, layer.Digest, cancellationToken).Completion;

        // The client never gets a whole body of bytes the digest does not name. It is sent none of the peer's bytes before the
        // blob is verified, so the broken response carries none: its HTTP stack may retry the GET on a new connection, and
        // then gets the blob from the upstream.
        Assert.True(!first.Complete || first.BodyDigest == layer.Digest, first.ToString());
        var second = await cluster.Download(asking, layer.Digest, cancellationToken).Completion;
        Assert.True(second.Complete && second.BodyDigest == layer.Digest, $"{second}\n{cluster.Logs()}");
        var metrics = await cluster.MetricsAsync(asking, cancellationToken);
        Assert.Equal(1, metrics.Value("nodecache_peer_fallbacks_total", AgentMetrics.Labels(("reason", "wrong_bytes"))));
        Assert.Equal(1, metrics.FillFailures("digest_mismatch"));
        Assert.Equal(1, metrics.Value("nodecache_peer_members", AgentMetrics.Labels(("state", "avoided"))));
        // The owner fetched it once for itself, the asking agent once more, from the upstream alone.
        Assert.Equal(2, await cluster.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        var cached = Path.Combine(asking.Agent.CacheDir, "blobs", "sha256", layer.Digest.Hex);
        Assert.Equal(layer.Digest, NodeCache.Oci.Digest.Compute(await File.ReadAllBytesAsync(cached, cancellationToken)));
    }

    [Fact]
    public async Task A_prewarm_whose_blob_a_peer_corrupts_follows_the_fetch_from_the_upstream_that_replaces_it_and_succeeds()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync("team/corrupt-prewarm", [8 * OciImageBuilder.MiB], seed: 1423, ThreeProxied, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var (owner, asking) = (cluster.Owner(layer.Digest), cluster.Ranked(layer.Digest)[^1]);
        owner.Proxy!.Mode = FaultMode.Corrupt;

        var run = await NodeCacheCli.RunAsync(asking.Agent, "prewarm", cluster.Image.Reference(PeerCluster.Namespace));

        run.EnsureSucceeded("nodecache prewarm");
        Assert.All(cluster.Image.Blobs, blob => Assert.True(PeerCluster.IsCached(asking, blob.Digest)));
        // Every blob of the image that agent owns (the layer, and the config when it owns that too) came back wrong once.
        var corrupted = cluster.Image.Blobs.Count(blob => cluster.Owner(blob.Digest) == owner);
        var metrics = await cluster.MetricsAsync(asking, cancellationToken);
        Assert.Equal(corrupted, metrics.Value("nodecache_peer_fallbacks_total", AgentMetrics.Labels(("reason", "wrong_bytes"))));
    }

    [Fact]
    public async Task A_peer_that_stalls_part_way_is_left_and_the_rest_comes_from_the_upstream_with_a_range_from_the_byte_reached()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/stall", [16 * OciImageBuilder.MiB], seed: 1422, ThreeProxied, ["--peer-stall-timeout", "1s"], cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var (owner, asking) = (cluster.Owner(layer.Digest), cluster.Ranked(layer.Digest)[^1]);
        // The owner holds the blob already, so the only pause in its answer is the one the proxy makes.
        Assert.True((await cluster.Download(owner, layer.Digest, cancellationToken).Completion).Complete);
        var held = owner.Proxy!.HoldAt(layer.Size / 2);
        try
        {
            var read = await cluster.Download(asking, layer.Digest, cancellationToken).Completion;

            Assert.True(held.IsCompleted, $"the owner's answer never reached the hold\n{cluster.Logs()}");
            Assert.True(read.Complete && read.BodyDigest == layer.Digest, $"{read}\n{cluster.Logs()}");
            var metrics = await cluster.MetricsAsync(asking, cancellationToken);
            Assert.Equal(1, metrics.Value("nodecache_peer_fallbacks_total", AgentMetrics.Labels(("reason", "stalled"))));
            var fromPeer = metrics.Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels());
            var fromUpstream = metrics.Value("nodecache_upstream_bytes_total", AgentMetrics.Labels());
            Assert.True(fromPeer > 0 && fromUpstream < layer.Size, $"{fromPeer} bytes from the peer, {fromUpstream} from the upstream");
            Assert.Equal(layer.Size, fromPeer + fromUpstream);
        }
        finally
        {
            owner.Proxy.Release();
        }
    }

    [Fact]
    public async Task A_peer_far_slower_than_the_agents_other_transfers_from_peers_is_left_and_the_rest_comes_from_the_upstream()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        // The minimum rate is far below both peers': only the comparison with the transfer beside it can find the slow one.
        await using var cluster = await PeerCluster.StartAsync(
            "team/crawl", [.. Enumerable.Repeat(6 * OciImageBuilder.MiB, 8)], seed: 1424, ThreeProxied, ["--peer-min-rate", "16KiB/s"], cancellationToken: cancellationToken);
        var (asking, (healthy, healthyLayer), (failing, failingLayer)) = await TwoOwnersHoldingTheirLayersAsync(cluster, cancellationToken);
        healthy.Proxy!.BytesPerSecond = 1 << 20;
        failing.Proxy!.BytesPerSecond = 64 << 10;

        var (healthyRead, failingRead) = await DownloadSideBySideAsync(cluster, asking, healthyLayer.Digest, failingLayer.Digest, cancellationToken);

        Assert.True(healthyRead.Complete && healthyRead.BodyDigest == healthyLayer.Digest, $"{healthyRead}\n{cluster.Logs()}");
        Assert.True(failingRead.Complete && failingRead.BodyDigest == failingLayer.Digest, $"{failingRead}\n{cluster.Logs()}");
        var metrics = await cluster.MetricsAsync(asking, cancellationToken);
        Assert.Equal(1, metrics.Value("nodecache_peer_fallbacks_total", AgentMetrics.Labels(("reason", "slow"))));
        // The failing peer's share came first, the upstream sent only the rest of its blob, and nothing of the healthy one's.
        var fromUpstream = metrics.Value("nodecache_upstream_bytes_total", AgentMetrics.Labels());
        Assert.InRange(fromUpstream, 1, failingLayer.Size - 1);
        Assert.Equal(healthyLayer.Size + failingLayer.Size, metrics.Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels()) + fromUpstream);
        Assert.Contains("under a quarter of the", asking.Agent.LogTail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peers_that_slow_down_together_are_kept_as_a_busy_link_is_no_failing_sender()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/busy", [.. Enumerable.Repeat(3 * OciImageBuilder.MiB, 8)], seed: 1425, ThreeProxied, ["--peer-min-rate", "16KiB/s"], cancellationToken: cancellationToken);
        var (asking, (first, firstLayer), (second, secondLayer)) = await TwoOwnersHoldingTheirLayersAsync(cluster, cancellationToken);
        first.Proxy!.BytesPerSecond = 512 << 10;
        second.Proxy!.BytesPerSecond = 384 << 10;

        var (firstRead, secondRead) = await DownloadSideBySideAsync(cluster, asking, firstLayer.Digest, secondLayer.Digest, cancellationToken);

        Assert.True(firstRead.Complete && firstRead.BodyDigest == firstLayer.Digest, $"{firstRead}\n{cluster.Logs()}");
        Assert.True(secondRead.Complete && secondRead.BodyDigest == secondLayer.Digest, $"{secondRead}\n{cluster.Logs()}");
        var metrics = await cluster.MetricsAsync(asking, cancellationToken);
        Assert.Equal(0, metrics.Series("nodecache_peer_fallbacks_total").Sum(s => s.Value));
        Assert.Equal(firstLayer.Size + secondLayer.Size, metrics.Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels()));
        Assert.Equal(0, metrics.Value("nodecache_upstream_bytes_total", AgentMetrics.Labels()));
    }

    /// <summary>
    /// Two layers of different owners, each owner holding its own (fetched from the upstream before its proxy is slowed),
    /// and the third agent, which owns neither and asks both.
    /// </summary>
    private static async Task<(PeerAgent Asking, (PeerAgent Owner, BlobFile Layer) First, (PeerAgent Owner, BlobFile Layer) Second)> TwoOwnersHoldingTheirLayersAsync(
        PeerCluster cluster, CancellationToken cancellationToken)
    {
        var layers = cluster.Image.Layers;
        var pair = layers.SelectMany(a => layers.Select(b => (First: a, Second: b)))
            .FirstOrDefault(p => cluster.Owner(p.First.Digest) != cluster.Owner(p.Second.Digest));
        Assert.True(pair.First is not null, "every layer has one owner: no two owners to ask side by side");
        var (firstOwner, secondOwner) = (cluster.Owner(pair.First.Digest), cluster.Owner(pair.Second.Digest));
        foreach (var (owner, layer) in new[] { (firstOwner, pair.First), (secondOwner, pair.Second) })
        {
            var held = await cluster.Download(owner, layer.Digest, cancellationToken).Completion;
            Assert.True(held.Complete && held.BodyDigest == layer.Digest, held.ToString());
        }
        var asking = cluster.Agents.Single(a => a != firstOwner && a != secondOwner);
        return (asking, (firstOwner, pair.First), (secondOwner, pair.Second));
    }

    // The second download starts once the first has run a second, so that the first has closed a window of its pace
    // when the second closes its own.
    private static async Task<(BodyRead First, BodyRead Second)> DownloadSideBySideAsync(
        PeerCluster cluster, PeerAgent asking, NodeCache.Oci.Digest first, NodeCache.Oci.Digest second, CancellationToken cancellationToken)
    {
        var firstRead = cluster.Download(asking, first, cancellationToken).Completion;
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var secondRead = cluster.Download(asking, second, cancellationToken).Completion;
        return (await firstRead, await secondRead);
    }
}
