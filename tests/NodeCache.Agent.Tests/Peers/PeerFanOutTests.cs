using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>A hot blob spreads as a tree: past its bound of uploads (of the blob, or of all blobs), an agent sends the next ones to an agent receiving it.</summary>
public sealed class PeerFanOutTests
{
    [Theory]
    [InlineData("--peer-uploads-per-blob")]
    [InlineData("--peer-uploads")]
    public async Task Beyond_one_upload_at_a_time_the_owner_redirects_agents_to_one_already_receiving_and_every_hop_streams(string bound)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/hot", [24 * OciImageBuilder.MiB], seed: 1431,
            [PeerCluster.Member.Proxied, PeerCluster.Member.Proxied, PeerCluster.Member.Proxied, PeerCluster.Member.Proxied],
            [bound, "1"], upstreamProxy: true, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var owner = cluster.Owner(layer.Digest);
        // A slow upstream keeps the owner's fill running while every agent asks.
        cluster.Upstream!.BytesPerSecond = 8 * OciImageBuilder.MiB;

        var reads = await Task.WhenAll(cluster.Agents.Where(a => a != owner).Select(a => cluster.Download(a, layer.Digest, cancellationToken).Completion));

        Assert.All(reads, read => Assert.True(read.Complete && read.BodyDigest == layer.Digest, $"{read}\n{cluster.Logs()}"));
        Assert.Equal(1, cluster.Upstream.CountBlobGets(layer.Digest));
        var ownerMetrics = await cluster.MetricsAsync(owner, cancellationToken);
        Assert.True(ownerMetrics.Value("nodecache_peer_answers_total", AgentMetrics.Labels(("result", "redirected"))) >= 1, ownerMetrics.Text);
        // Each agent's peer API is reached through its own proxy, which counts the blob bodies it carried.
        var served = cluster.Agents.ToDictionary(a => a, a => a.Proxy!.CountBlobGets(layer.Digest));
        Assert.True(served[owner] < 3, $"the owner sent {served[owner]} copies\n{cluster.Logs()}");
        Assert.True(served.Where(s => s.Key != owner).Sum(s => s.Value) >= 1, $"no agent but the owner sent a copy\n{cluster.Logs()}");
    }
}
