using System.Net;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>Agents that share fetch each blob from the upstream once, through its owner, and stream it on as it arrives.</summary>
public sealed class PeerFillTests
{
    private static readonly PeerCluster.Member[] ThreeAgents = [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Running];

    [Fact]
    public async Task A_cold_blob_pulled_through_every_agent_in_turn_is_fetched_from_the_upstream_once()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync("team/shared", [8 * OciImageBuilder.MiB], seed: 1401, ThreeAgents, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        // Non-owners first: the first of them makes the owner fetch it for both.
        var order = cluster.Ranked(layer.Digest).Reverse().ToList();

        foreach (var agent in order)
        {
            var read = await cluster.Download(agent, layer.Digest, cancellationToken).Completion;

            Assert.Equal(HttpStatusCode.OK, read.Status);
            Assert.True(read.Complete, $"{agent.PeerUrl}: {read}\n{cluster.Logs()}");
            Assert.Equal(layer.Digest, read.BodyDigest);
        }

        var gets = await cluster.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken);
        Assert.True(gets == 1, $"{gets} upstream GETs\n{cluster.Logs()}");
        foreach (var agent in cluster.Agents)
        {
            await WaitCachedAsync(cluster, agent, layer.Digest, cancellationToken);
        }
        var first = await cluster.MetricsAsync(order[0], cancellationToken);
        Assert.Equal(layer.Size, first.Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels()));
        Assert.Equal(0, first.Value("nodecache_upstream_bytes_total", AgentMetrics.Labels()));
    }

    [Fact]
    public async Task Simultaneous_cold_pulls_on_every_agent_fetch_each_blob_from_the_upstream_once()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/rollout", [16 * OciImageBuilder.MiB, 16 * OciImageBuilder.MiB, 4 * OciImageBuilder.MiB], seed: 1402, ThreeAgents, cancellationToken: cancellationToken);

        var downloads = cluster.Agents.SelectMany(agent => cluster.Image.Blobs.Select(blob => (blob, download: cluster.Download(agent, blob.Digest, cancellationToken)))).ToList();
        await Task.WhenAll(downloads.Select(d => d.download.Completion));

        foreach (var (blob, download) in downloads)
        {
            var read = await download.Completion;
            Assert.True(read.Complete && read.BodyDigest == blob.Digest, $"{blob.Digest}: {read}\n{cluster.Logs()}");
        }
        foreach (var blob in cluster.Image.Blobs)
        {
            var gets = await cluster.Registry.CountBlobGetsAsync(blob.Digest, cancellationToken: cancellationToken);
            Assert.True(gets == 1, $"{gets} upstream GETs of {blob.Digest}\n{cluster.Logs()}");
        }
    }

    [Fact]
    public async Task The_owner_streams_a_blob_to_the_asking_agent_while_its_own_fill_from_the_upstream_is_still_running_and_the_client_gets_it_verified()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/stream", [32 * OciImageBuilder.MiB], seed: 1403, ThreeAgents, ["--peer-stall-timeout", "60s"], upstreamProxy: true, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var owner = cluster.Owner(layer.Digest);
        var asking = cluster.Ranked(layer.Digest)[^1];
        var held = cluster.Upstream!.HoldAt(layer.Size / 2);

        var download = cluster.Download(asking, layer.Digest, cancellationToken);
        await held.WaitAsync(cancellationToken);
        // The owner has half the blob and waits for the rest: the asking agent already has bytes of it. Its client (containerd)
        // gets them once the blob is verified, since it would keep a wrong byte and resume after it.
        double received;
        while ((received = (await cluster.MetricsAsync(asking, cancellationToken)).Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels())) == 0)
        {
            await Task.Delay(100, cancellationToken);
        }
        Assert.True(received <= layer.Size / 2, $"{received} bytes from the owner, which has {layer.Size / 2}");
        Assert.Equal(0, download.Received);
        Assert.False(download.Completion.IsCompleted);
        Assert.False(PeerCluster.IsCached(owner, layer.Digest));
        cluster.Upstream.Release();

        var read = await download.Completion;
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, $"{read}\n{cluster.Logs()}");
        Assert.Equal(1, cluster.Upstream.CountBlobGets(layer.Digest));
    }

    [Fact]
    public async Task An_owner_that_is_not_running_is_passed_over_and_the_next_member_fetches_the_blob_once()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/dead-owner", [4 * OciImageBuilder.MiB], seed: 1404, [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Dead],
            deadOwnerOf: image => image.Layers[0].Digest, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var ranked = cluster.Ranked(layer.Digest);
        Assert.Null(ranked[0].Process);

        // Every running agent finds the owner gone and turns to the same second member.
        var reads = await Task.WhenAll(cluster.Agents.Where(a => a.Process is not null).Select(a => cluster.Download(a, layer.Digest, cancellationToken).Completion));

        Assert.All(reads, read => Assert.True(read.Complete && read.BodyDigest == layer.Digest, $"{read}\n{cluster.Logs()}"));
        Assert.Equal(1, await cluster.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        var last = await cluster.MetricsAsync(ranked[^1], cancellationToken);
        Assert.Equal(1, last.Value("nodecache_peer_fallbacks_total", AgentMetrics.Labels(("reason", "unreachable"))));
    }

    private static async Task WaitCachedAsync(PeerCluster cluster, PeerAgent agent, NodeCache.Oci.Digest digest, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!PeerCluster.IsCached(agent, digest))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{agent.PeerUrl} did not cache {digest}\n{cluster.Logs()}");
            await Task.Delay(50, cancellationToken);
        }
    }
}
