using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>With <c>--peer-tls-cert</c>, <c>--peer-tls-key</c> and <c>--peer-tls-ca</c>, agents share blobs over TLS only, and only with agents the CA certified.</summary>
public sealed class PeerTlsTests : IDisposable
{
    // The cluster's CA: every agent trusts it alone, and every agent but an untrusted one serves a certificate it signed.
    private readonly TestCertificateAuthority _authority = TestCertificateAuthority.Create();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(3));

    public void Dispose()
    {
        _timeout.Dispose();
        _authority.Dispose();
    }

    [Fact]
    public async Task Agents_share_a_blob_over_tls_with_the_clusters_certificate_and_answer_no_plain_http_on_the_peer_port()
    {
        var cancellationToken = _timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/tls", [4 * OciImageBuilder.MiB], seed: 1451, [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Running],
            tls: _authority, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var (owner, asking) = (cluster.Owner(layer.Digest), cluster.Ranked(layer.Digest)[^1]);

        await PullsVerifiedFetchedOnceAsync(cluster, asking, layer, cancellationToken);

        var received = await cluster.MetricsAsync(asking, cancellationToken);
        Assert.Equal(layer.Size, received.Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels()));
        Assert.Equal(0, received.Value("nodecache_upstream_bytes_total", AgentMetrics.Labels()));
        Assert.True(PeerCluster.IsCached(asking, layer.Digest), cluster.Logs());
        var sent = await UploadCountedAsync(cluster, owner, cancellationToken);
        Assert.Equal(1, sent.Value(PeerMetrics.Answers, AgentMetrics.Labels(("result", "served"))));
        Assert.Equal(layer.Size, sent.Value("nodecache_peer_sent_bytes_total", AgentMetrics.Labels()));
        Assert.StartsWith("https://", owner.PeerUrl, StringComparison.Ordinal);
        using var served = await PeerCertificateAsync(owner.PeerPort, cancellationToken);
        using var issued = X509Certificate2.CreateFromPem(File.ReadAllText(_authority.CertificatePath));
        Assert.Equal(issued.Thumbprint, served.Thumbprint);

        // Plain HTTP to the peer port gets no answer at all, as `curl http://...` shows: the connection is closed, no request
        // reaches the peer API and no byte of the blob leaves; the port goes on serving TLS.
        using var plain = new HttpClient();
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            plain.GetAsync(new Uri($"http://127.0.0.1:{owner.PeerPort}/v2/{cluster.Image.Repository}/blobs/{layer.Digest}?ns={PeerCluster.Namespace}"), cancellationToken));
        Assert.Equal(HttpRequestError.ResponseEnded, refused.HttpRequestError);
        var after = await cluster.MetricsAsync(owner, cancellationToken);
        Assert.Equal(sent.Series(PeerMetrics.Answers).Sum(s => s.Value), after.Series(PeerMetrics.Answers).Sum(s => s.Value));
        Assert.Equal(layer.Size, after.Value("nodecache_peer_sent_bytes_total", AgentMetrics.Labels()));
        using var again = await PeerCertificateAsync(owner.PeerPort, cancellationToken);
        Assert.Equal(issued.Thumbprint, again.Thumbprint);
    }

    [Fact]
    public async Task An_owner_whose_certificate_does_not_chain_to_the_peer_ca_is_sent_no_request_counted_untrusted_and_the_blob_comes_from_the_upstream_verified()
    {
        var cancellationToken = _timeout.Token;
        // Its certificate names 127.0.0.1 and its CA has the cluster CA's name: only the signature tells them apart.
        await using var cluster = await PeerCluster.StartAsync(
            "team/tls-stranger", [4 * OciImageBuilder.MiB], seed: 1452, [PeerCluster.Member.Running, PeerCluster.Member.Running],
            tls: _authority, untrustedOwnerOf: image => image.Layers[0].Digest, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var (untrusted, asking) = (cluster.Owner(layer.Digest), cluster.Ranked(layer.Digest)[^1]);

        await PullsVerifiedFetchedOnceAsync(cluster, asking, layer, cancellationToken);

        var asked = await cluster.MetricsAsync(asking, cancellationToken);
        Assert.Equal(0, asked.Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels()));
        Assert.Equal(layer.Size, asked.Value("nodecache_upstream_bytes_total", AgentMetrics.Labels()));
        // Told apart from an agent that is down: the cluster's certificates need fixing, not the node.
        Assert.Equal(1, asked.Value(PeerMetrics.Requests, AgentMetrics.Labels(("result", "untrusted"))));
        Assert.Equal(1, asked.Series(PeerMetrics.Requests).Sum(s => s.Value));
        Assert.Equal(1, asked.Value(PeerMetrics.Fallbacks, AgentMetrics.Labels(("reason", "refused"))));
        Assert.Equal(1, asked.Series(PeerMetrics.Fallbacks).Sum(s => s.Value));
        // The agent's console logger writes on a thread of its own: the line may reach its output after the pull completed.
        var warning = $"Peer {untrusted.PeerUrl} was sent no request: its certificate does not chain to --peer-tls-ca";
        using var logged = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        logged.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await asking.Agent.Output.WaitForLineAsync(l => l.Text.Contains(warning, StringComparison.Ordinal), logged.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"the asking agent never warned of the untrusted certificate\n{asking.Agent.LogTail()}");
        }
        var warned = Assert.Single(asking.Agent.Output.Lines(), l => l.Text.Contains(warning, StringComparison.Ordinal));
        Assert.Contains(" warn: ", warned.Text, StringComparison.Ordinal);
        // The handshake failed before any request was sent: the untrusted agent never saw the cluster's proof, and sent nothing.
        var stranger = await cluster.MetricsAsync(untrusted, cancellationToken);
        Assert.Equal(0, stranger.Series(PeerMetrics.Answers).Sum(s => s.Value));
        Assert.Equal(0, stranger.Value("nodecache_peer_sent_bytes_total", AgentMetrics.Labels()));
        Assert.False(PeerCluster.IsCached(untrusted, layer.Digest));
    }

    // The blob through the agent's registry API as containerd asks for it: whole, hashing to its digest, and fetched from the
    // upstream once in the whole cluster.
    private static async Task PullsVerifiedFetchedOnceAsync(PeerCluster cluster, PeerAgent agent, BlobFile layer, CancellationToken cancellationToken)
    {
        var read = await cluster.Download(agent, layer.Digest, cancellationToken).Completion;
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, $"{read}\n{cluster.Logs()}");
        var gets = await cluster.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken);
        Assert.True(gets == 1, $"{gets} upstream GETs\n{cluster.Logs()}");
    }

    // An owner counts an upload (its answer, then its bytes) once its last write returns, which may come just after the asking
    // agent has read that write.
    private static async Task<AgentMetrics> UploadCountedAsync(PeerCluster cluster, PeerAgent owner, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var metrics = await cluster.MetricsAsync(owner, cancellationToken);
            if (metrics.Value("nodecache_peer_sent_bytes_total", AgentMetrics.Labels()) > 0 || DateTime.UtcNow > deadline)
            {
                return metrics;
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    // The certificate the peer port presents in the TLS handshake, as `openssl s_client` shows it.
    private static async Task<X509Certificate2> PeerCertificateAsync(int port, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            // Only looked at, never trusted: the test compares it with the certificate the agents were given.
            presented = certificate is null ? null : new X509Certificate2(certificate);
            return presented is not null;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" }, cancellationToken);
        return presented ?? throw new InvalidOperationException("the peer port presented no certificate");
    }
}
