using System.Diagnostics;
using System.Net;
using NodeCache.Peers;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>The peer API answers only requests that prove the cluster's secret, and only the owner ever goes upstream for one.</summary>
public sealed class PeerAuthTests
{
    [Fact]
    public async Task A_peer_request_without_a_valid_proof_gets_401_and_no_blob_bytes_whether_the_blob_is_cached_or_not()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/private", [1 * OciImageBuilder.MiB, 1 * OciImageBuilder.MiB], seed: 1411, [PeerCluster.Member.Running, PeerCluster.Member.Running], cancellationToken: cancellationToken);
        var (cached, cold) = (cluster.Image.Layers[0], cluster.Image.Layers[1]);
        var agent = cluster.Owner(cold.Digest);
        Assert.True((await cluster.Download(agent, cached.Digest, cancellationToken).Completion).Complete);
        var getsBefore = await cluster.Registry.CountBlobGetsAsync(cancellationToken: cancellationToken);
        var stranger = new PeerProof(PeerSecret.FromText("a secret that is not the cluster's"), TimeProvider.System);
        var valid = new PeerProof(PeerSecret.FromText(PeerCluster.Secret), TimeProvider.System);
        var late = new PeerProof(PeerSecret.FromText(PeerCluster.Secret), new OffsetTime(-TimeSpan.FromMinutes(10)));

        foreach (var blob in new[] { cached, cold })
        {
            var path = $"/v2/{cluster.Image.Repository}/blobs/{blob.Digest}?ns={PeerCluster.Namespace}";
            var attempts = new (string What, Action<HttpRequestMessage> Sign)[]
            {
                ("no proof", _ => { }),
                ("another secret", request => Sign(request, stranger, path, cluster.PeerUrls[^1])),
                ("a proof ten minutes old", request => Sign(request, late, path, cluster.PeerUrls[^1])),
                ("a proof for another path", request => Sign(request, valid, path.Replace(blob.Digest.ToString(), cold.Digest == blob.Digest ? cached.Digest.ToString() : cold.Digest.ToString()), cluster.PeerUrls[^1])),
                ("a proof for another requester", request => { Sign(request, valid, path, cluster.PeerUrls[^1]); request.Headers.Remove(PeerProof.PeerHeader); request.Headers.Add(PeerProof.PeerHeader, "http://198.18.0.99:5051"); }),
            };
            foreach (var (what, sign) in attempts)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{agent.PeerUrl}{path}"));
                sign(request);
                using var response = await cluster.Http.SendAsync(request, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);

                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what}: {(int)response.StatusCode} {body}");
                Assert.Contains("UNAUTHORIZED", body, StringComparison.Ordinal);
                Assert.True(body.Length < 1024, $"{what}: a {body.Length}-byte body");
            }
        }

        Assert.Equal(getsBefore, await cluster.Registry.CountBlobGetsAsync(cancellationToken: cancellationToken));
        var metrics = await cluster.MetricsAsync(agent, cancellationToken);
        Assert.Equal(10, metrics.Value("nodecache_peer_answers_total", AgentMetrics.Labels(("result", "unauthorized"))));
    }

    [Fact]
    public async Task An_agent_that_does_not_own_a_cold_blob_answers_a_peer_404_at_once_and_never_asks_the_upstream()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/amplify", [1 * OciImageBuilder.MiB], seed: 1412, [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Running], cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var ranked = cluster.Ranked(layer.Digest);
        var proof = new PeerProof(PeerSecret.FromText(PeerCluster.Secret), TimeProvider.System);
        var path = $"/v2/{cluster.Image.Repository}/blobs/{layer.Digest}?ns={PeerCluster.Namespace}";

        foreach (var notOwner in ranked.Skip(1))
        {
            // A first request warms the agent's path, so that what is timed below is the answer, not the JIT.
            using (var warm = await cluster.Http.GetAsync(new Uri($"{notOwner.PeerUrl}{path}"), cancellationToken))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, warm.StatusCode);
            }
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{notOwner.PeerUrl}{path}"));
            Sign(request, proof, path, ranked[0].PeerUrl);
            var clock = Stopwatch.StartNew();
            using var response = await cluster.Http.SendAsync(request, cancellationToken);

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"answered after {clock.Elapsed}");
        }
        // A redirected request is never a reason to fetch either, even on the owner.
        var redirected = path + "&redirected=1";
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{ranked[0].PeerUrl}{redirected}")))
        {
            Sign(request, proof, redirected, ranked[1].PeerUrl);
            using var response = await cluster.Http.SendAsync(request, cancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(0, await cluster.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
    }

    private static void Sign(HttpRequestMessage request, PeerProof proof, string pathAndQuery, string requester)
    {
        var (peer, at, mac) = proof.Sign(request.Method.Method, pathAndQuery, requester);
        request.Headers.Add(PeerProof.PeerHeader, peer);
        request.Headers.Add(PeerProof.TimeHeader, at);
        request.Headers.Add(PeerProof.ProofHeader, mac);
    }

    private sealed class OffsetTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
