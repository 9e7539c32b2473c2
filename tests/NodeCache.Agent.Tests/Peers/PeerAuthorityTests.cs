using System.Diagnostics;
using System.Net;
using NodeCache.Oci;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>
/// Harbor stays the authority while peers share blobs: a tag is resolved by each node's own request to Harbor, so a
/// retagged image reaches the next node as Harbor has it now, not as another agent holds it; only a holder of the
/// cluster's secret gets anything from the peer port; while Harbor is down, an image that some node holds pulls on every node.
/// </summary>
[Collection(PeerClusterFixture.Collection)]
public sealed class PeerAuthorityTests(PeerClusterFixture fixture)
{
    private SimulatedCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task While_Harbor_answers_every_node_resolves_the_tag_and_gets_the_manifest_from_Harbor_not_from_a_peer()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var nodes = fixture.Nodes;
        var first = await fixture.PushImageAsync("retagged", "stable");
        var holder = nodes[1];
        var early = await Rollout.RunAsync(Cluster, [holder], first, cancellationToken: timeout.Token);
        // The same tag now names another image in Harbor; node 2 holds the first one's manifest and blobs (and serves its
        // own clients the tag it cached for --tag-ttl, as any mirror does). The other nodes must not get them from it.
        var second = await fixture.PushImageAsync("retagged", "stable");
        var retagged = second with { Repository = first.Repository };
        await Cluster.PushAsync(retagged, timeout.Token);
        var mark = await fixture.HarborMarkAsync();
        nodes = [.. nodes.Where(n => n != holder)];

        var rollout = await Rollout.RunAsync(Cluster, nodes, retagged, cancellationToken: timeout.Token);

        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(early);
        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(rollout);
        // A node that had the manifest from node 2, which holds the old one under this tag, would have the old image
        // (containerd on node 1 would lack the new layers, which its pull checks).
        Assert.All(rollout.Nodes.Where(n => n.Pull!.Http is not null), n => Assert.Equal(retagged.ManifestDigest, n.Pull!.Http!.ManifestDigest));
        var manifests = (await fixture.HarborRequestsSinceAsync(mark))
            .Where(r => r.Route == RegistryRoute.Manifest && r.Succeeded && r.UserAgent != MirrorPull.UserAgent)
            .ToList();
        Assert.All(nodes, node => Assert.Contains(manifests, r => r.Reference == "stable" && r.RemoteAddress == node.Machine.Address.ToString()));
        // The manifest's bytes came from Harbor to every node, by tag or by digest: no agent had them from another.
        Assert.All(nodes, node => Assert.Contains(manifests, r => r.Method == "GET" && r.RemoteAddress == node.Machine.Address.ToString()
            && (r.Reference == "stable" || r.Reference == retagged.ManifestDigest.ToString())));
    }

    [Fact]
    public async Task A_peer_request_without_the_clusters_secret_gets_401_no_bytes_and_starts_no_fetch()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var nodes = fixture.Nodes;
        var held = await fixture.PushImageAsync("secret-held", layers: [1 * OciImageBuilder.MiB]);
        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(await Rollout.RunAsync(Cluster, [nodes[1]], held, cancellationToken: timeout.Token));
        var cold = await fixture.PushImageAsync("secret-cold", layers: [1 * OciImageBuilder.MiB]);
        var heldLayer = held.Layers[0];
        var coldLayer = cold.Layers[0];
        // Asked of the node that holds it, and of the owner of a blob nobody pulled, which alone could fetch it from Harbor.
        var asked = new[] { (Node: nodes[1], Image: held, Layer: heldLayer), (Node: fixture.Ranked(coldLayer.Digest)[0], Image: cold, Layer: coldLayer) };
        var mark = await fixture.HarborMarkAsync();
        var refusedBefore = await PeerClusterFixture.SumMetricAsync(nodes, PeerMetrics.Answers, ("result", "unauthorized"));
        // A stranger on the node network: this process, on the bridge.
        using var http = new HttpClient();

        var answers = new List<(string Case, HttpStatusCode Status, byte[] Body)>();
        foreach (var (node, image, layer) in asked)
        {
            var path = $"/v2/{image.Repository}/blobs/{layer.Digest}?ns={SimulatedCluster.RegistryHost}";
            using (var unsigned = fixture.PeerRequest(node, HttpMethod.Get, path, proven: false))
            {
                answers.Add(await SendAsync(http, unsigned, $"{node} unsigned", timeout.Token));
            }
            using (var forged = fixture.PeerRequest(node, HttpMethod.Get, path, proven: false))
            {
                // The headers of a proof, made with a secret that is not the cluster's.
                forged.Headers.TryAddWithoutValidation(NodeCache.Peers.PeerProof.PeerHeader, nodes[0].PeerUrl.ToString().TrimEnd('/'));
                forged.Headers.TryAddWithoutValidation(NodeCache.Peers.PeerProof.TimeHeader, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
                forged.Headers.TryAddWithoutValidation(NodeCache.Peers.PeerProof.ProofHeader, Convert.ToBase64String(new byte[32]).TrimEnd('='));
                answers.Add(await SendAsync(http, forged, $"{node} forged", timeout.Token));
            }
        }

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.Unauthorized, $"{a.Case}: {(int)a.Status}"));
        // The answer is an OCI error, not a byte of the blob.
        Assert.All(answers, a => Assert.Contains("UNAUTHORIZED", System.Text.Encoding.UTF8.GetString(a.Body), StringComparison.Ordinal));
        Assert.All(answers, a => Assert.True(a.Body.Length < 1024, $"{a.Case}: a body of {a.Body.Length} bytes"));
        await PeerClusterFixture.AssertMetricReachesAsync(nodes, PeerMetrics.Answers, refusedBefore + answers.Count, "every refusal counted", ("result", "unauthorized"));
        // No agent went to Harbor for the strangers: the cold blob is still unknown to every agent.
        Assert.DoesNotContain(await fixture.HarborRequestsSinceAsync(mark), r => r.Reference == coldLayer.Digest.ToString());
        Assert.All(nodes, node => Assert.False(node.Holds(coldLayer.Digest), $"{node} fetched {coldLayer.Digest} for a stranger"));
        // The same request with the cluster's secret is served: the refusals were the proof's doing.
        using var signed = fixture.PeerRequest(nodes[1], HttpMethod.Get, $"/v2/{held.Repository}/blobs/{heldLayer.Digest}?ns={SimulatedCluster.RegistryHost}", proven: true);
        using var served = await http.SendAsync(signed, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(heldLayer.Digest, Digest.Compute(await served.Content.ReadAsByteArrayAsync(timeout.Token)));
    }

    [Fact]
    public async Task While_Harbor_is_down_an_image_one_node_holds_pulls_on_every_node()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        await fixture.SettleAsync(timeout.Token);
        var nodes = fixture.Nodes;
        var image = await fixture.PushImageAsync("outage");
        var holder = await Rollout.RunAsync(Cluster, [nodes[1]], image, cancellationToken: timeout.Token);
        PeerClusterFixture.AssertEveryNodeCompletedThroughItsAgent(holder);

        await Cluster.Harbor.StopAsync();
        NodeOutcome[] outcomes;
        try
        {
            // Pulled one by one, not as a rollout: a rollout reads Harbor's log, and Harbor is down.
            var clock = Stopwatch.StartNew();
            outcomes = await Task.WhenAll(nodes.Where(n => n != nodes[1]).Select(n => Rollout.PullAsync(n, image, clock, timeout.Token)));
        }
        finally
        {
            await Cluster.Harbor.RestartAsync(timeout.Token);
        }

        // Tag, manifest and blobs all came through each node's own agent, from the agents that hold them.
        Assert.All(outcomes, o => Assert.True(o.Error is null, $"{o.Node}: {o.Error}"));
        Assert.All(outcomes.Where(o => o.Pull!.Http is not null), o => Assert.Equal(0, o.Pull!.Http!.FromOtherHosts(ClusterNode.MirrorUrl)));
        PeerClusterFixture.AssertHeldIntact(nodes, image);
    }

    private static async Task<(string Case, HttpStatusCode Status, byte[] Body)> SendAsync(HttpClient http, HttpRequestMessage request, string @case, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(request, cancellationToken);
        return (@case, response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }
}
