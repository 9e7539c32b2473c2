using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>Prewarm goes through the same fills as pulls, so a prewarm on every node shares too.</summary>
public sealed class PeerPrewarmTests
{
    [Fact]
    public async Task A_prewarm_of_one_image_on_every_agent_at_once_fetches_each_blob_from_the_upstream_once()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/prewarmed", [8 * OciImageBuilder.MiB, 8 * OciImageBuilder.MiB, 2 * OciImageBuilder.MiB], seed: 1441,
            [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Running], cancellationToken: cancellationToken);
        var image = cluster.Image.Reference(PeerCluster.Namespace);

        var runs = await Task.WhenAll(cluster.Agents.Select(agent => NodeCacheCli.RunAsync(agent.Agent, "prewarm", image)));

        Assert.All(runs, run => run.EnsureSucceeded("nodecache prewarm"));
        foreach (var blob in cluster.Image.Blobs)
        {
            var gets = await cluster.Registry.CountBlobGetsAsync(blob.Digest, cancellationToken: cancellationToken);
            Assert.True(gets == 1, $"{gets} upstream GETs of {blob.Digest}\n{cluster.Logs()}");
            Assert.All(cluster.Agents, agent => Assert.True(PeerCluster.IsCached(agent, blob.Digest), $"{agent.PeerUrl} lacks {blob.Digest}"));
        }
    }
}
