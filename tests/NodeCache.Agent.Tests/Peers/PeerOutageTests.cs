using System.Net;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>
/// Harbor stays the authority: manifests and tags come from the upstream while it answers. Only while it is unreachable
/// or answers 5xx does an image another agent holds pull through that agent, manifest and blobs, and never a manifest
/// that any agent holds as denied.
/// </summary>
public sealed class PeerOutageTests
{
    private static readonly PeerCluster.Member[] ThreeAgents = [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Running];

    private static readonly long[] Layers = [3 * OciImageBuilder.MiB, 1 * OciImageBuilder.MiB];

    public enum Outage
    {
        Unreachable,
        ServerError,
    }

    [Theory]
    [InlineData(Outage.Unreachable)]
    [InlineData(Outage.ServerError)]
    public async Task While_the_upstream_is_down_an_image_one_agent_holds_pulls_by_tag_on_another_with_the_right_bytes(Outage outage)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync("team/outage", Layers, seed: 1431, ThreeAgents, upstreamProxy: true, cancellationToken: cancellationToken);
        var (holder, puller) = (cluster.Agents[0], cluster.Agents[1]);
        await PullAsync(cluster, holder, cancellationToken);
        // The holder's pull went through the blobs' owners: the others start over empty, so that it alone holds the image.
        foreach (var other in cluster.Agents.Where(a => a != holder))
        {
            await EmptyAsync(other, cancellationToken);
        }

        await BringDownAsync(cluster.Upstream!, outage);
        var manifest = await GetManifestAsync(cluster, puller, cluster.Image.Tag!, cancellationToken);

        Assert.True(manifest.Status == HttpStatusCode.OK, $"{manifest.Status}\n{cluster.Logs()}");
        Assert.Equal(cluster.Image.ManifestDigest.ToString(), manifest.Digest);
        Assert.Equal(cluster.Image.ManifestBytes, manifest.Body);
        foreach (var blob in cluster.Image.Blobs)
        {
            var read = await cluster.Download(puller, blob.Digest, cancellationToken).Completion;
            Assert.True(read.Complete && read.BodyDigest == blob.Digest, $"{blob.Digest}: {read}\n{cluster.Logs()}");
        }
        var metrics = await cluster.MetricsAsync(puller, cancellationToken);
        Assert.Equal(1, metrics.Value("nodecache_requests_total", AgentMetrics.Labels(("kind", "manifest"), ("result", "stale"))));
        Assert.True(metrics.Value("nodecache_served_bytes_total", AgentMetrics.Labels(("source", "peer"))) >= cluster.Image.ManifestBytes.Length + cluster.Image.Layers[0].Size);
        Assert.Equal(0, metrics.Value("nodecache_served_bytes_total", AgentMetrics.Labels(("source", "upstream"))));
        // Kept as this agent's own stale copy: asked again with the agent that lent it gone, it still answers.
        await holder.Agent.StopAsync();
        var again = await GetManifestAsync(cluster, puller, cluster.Image.Tag!, cancellationToken);
        Assert.Equal(cluster.Image.ManifestDigest.ToString(), again.Digest);
    }

    [Fact]
    public async Task While_the_upstream_answers_a_retagged_image_comes_from_it_and_no_agent_is_asked_for_a_manifest()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync("team/retag", Layers, seed: 1432, [PeerCluster.Member.Proxied, PeerCluster.Member.Running], cancellationToken: cancellationToken);
        var (holder, puller) = (cluster.Agents[0], cluster.Agents[1]);
        await PullAsync(cluster, holder, cancellationToken);
        var retagged = await cluster.Builder.BuildAsync(cluster.Image.Repository, cluster.Image.Tag!, [2 * OciImageBuilder.MiB], cancellationToken: cancellationToken);
        await OciPusher.For(cluster.Registry).PushAsync(retagged, cancellationToken);

        var manifest = await GetManifestAsync(cluster, puller, cluster.Image.Tag!, cancellationToken);

        Assert.Equal(HttpStatusCode.OK, manifest.Status);
        Assert.Equal(retagged.ManifestDigest.ToString(), manifest.Digest);
        Assert.DoesNotContain(holder.Proxy!.Requests(), r => r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task During_an_outage_a_manifest_one_agent_holds_as_denied_is_refused_although_another_holds_a_copy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync("team/denied", Layers, seed: 1433, ThreeAgents, upstreamProxy: true, cancellationToken: cancellationToken);
        var (holder, puller, refused) = (cluster.Agents[0], cluster.Agents[1], cluster.Agents[2]);
        await PullAsync(cluster, holder, cancellationToken);
        cluster.Upstream!.DenyManifest(cluster.Image.ManifestDigest, "image blocked: critical CVE");
        // The tag and the digest it names, as containerd asks for both.
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await GetManifestAsync(cluster, refused, cluster.Image.Tag!, cancellationToken)).Status);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await GetManifestAsync(cluster, refused, cluster.Image.ManifestDigest.ToString(), cancellationToken)).Status);

        cluster.Upstream.Unavailable = true;
        var manifest = await GetManifestAsync(cluster, puller, cluster.Image.Tag!, cancellationToken);
        var byDigest = await GetManifestAsync(cluster, puller, cluster.Image.ManifestDigest.ToString(), cancellationToken);

        Assert.True(manifest.Status == HttpStatusCode.PreconditionFailed, $"{manifest.Status}\n{cluster.Logs()}");
        Assert.Contains("critical CVE", System.Text.Encoding.UTF8.GetString(manifest.Body), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PreconditionFailed, byDigest.Status);
        Assert.False(PeerCluster.IsCached(puller, cluster.Image.ManifestDigest));
    }

    private static async Task PullAsync(PeerCluster cluster, PeerAgent agent, CancellationToken cancellationToken)
    {
        var manifest = await GetManifestAsync(cluster, agent, cluster.Image.Tag!, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, manifest.Status);
        foreach (var blob in cluster.Image.Blobs)
        {
            var read = await cluster.Download(agent, blob.Digest, cancellationToken).Completion;
            Assert.True(read.Complete && read.BodyDigest == blob.Digest, $"{blob.Digest}: {read}\n{cluster.Logs()}");
        }
    }

    private static async Task EmptyAsync(PeerAgent agent, CancellationToken cancellationToken)
    {
        await agent.Agent.StopAsync();
        Directory.Delete(agent.Agent.CacheDir, recursive: true);
        await agent.Agent.RestartAsync(cancellationToken);
    }

    private static async Task BringDownAsync(FaultProxy upstream, Outage outage)
    {
        if (outage == Outage.ServerError)
        {
            upstream.Unavailable = true;
        }
        else
        {
            await upstream.GoDownAsync();
        }
    }

    private static async Task<(HttpStatusCode Status, string? Digest, byte[] Body)> GetManifestAsync(PeerCluster cluster, PeerAgent agent, string reference, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(agent.Agent.BaseUri, $"/v2/{cluster.Image.Repository}/manifests/{reference}?ns={PeerCluster.Namespace}"));
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.ManifestAccept);
        using var response = await cluster.Http.SendAsync(request, cancellationToken);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
        return (response.StatusCode, digest, await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }
}
