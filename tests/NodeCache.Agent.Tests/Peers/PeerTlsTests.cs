using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>With <c>--peer-tls-cert</c>, <c>--peer-tls-key</c> and <c>--peer-tls-ca</c>, agents share blobs over TLS only.</summary>
public sealed class PeerTlsTests
{
    [Fact]
    public async Task Agents_share_a_blob_over_tls_with_the_clusters_certificate_and_answer_no_plain_http_on_the_peer_port()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        using var authority = TestCertificateAuthority.Create();
        await using var cluster = await PeerCluster.StartAsync(
            "team/tls", [4 * OciImageBuilder.MiB], seed: 1451, [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Running],
            tls: authority, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        var (owner, asking) = (cluster.Owner(layer.Digest), cluster.Ranked(layer.Digest)[^1]);

        var read = await cluster.Download(asking, layer.Digest, cancellationToken).Completion;

        Assert.True(read.Complete && read.BodyDigest == layer.Digest, $"{read}\n{cluster.Logs()}");
        Assert.Equal(1, await cluster.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        var metrics = await cluster.MetricsAsync(asking, cancellationToken);
        Assert.Equal(layer.Size, metrics.Value("nodecache_peer_received_bytes_total", AgentMetrics.Labels()));
        Assert.StartsWith("https://", owner.PeerUrl, StringComparison.Ordinal);
        using var served = await PeerCertificateAsync(owner.PeerPort, cancellationToken);
        using var issued = X509Certificate2.CreateFromPem(File.ReadAllText(authority.CertificatePath));
        Assert.Equal(issued.Thumbprint, served.Thumbprint);
        // Plain HTTP to the peer port gets no answer at all, as `curl http://...` shows: the connection is closed.
        using var plain = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() =>
            plain.GetAsync(new Uri($"http://127.0.0.1:{owner.PeerPort}/v2/{cluster.Image.Repository}/blobs/{layer.Digest}?ns={PeerCluster.Namespace}"), cancellationToken));
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
