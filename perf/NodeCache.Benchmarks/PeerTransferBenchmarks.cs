using System.Net;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Peers;
using NodeCache.Testing;

namespace NodeCache.Benchmarks;

/// <summary>
/// What TLS between agents costs: one blob from a peer API as Kestrel serves it (HTTP/1.1 on loopback, TLS with a
/// certificate a test CA signed, as <c>--peer-tls-cert</c> does) to the agents' own <see cref="PeerClient"/> (trusting
/// that CA alone, as <c>--peer-tls-ca</c> does), plain against TLS. The bytes come from memory and are not hashed, so
/// this is the transport's own cost; a fill hashes every byte on top of it. One operation per MiB: Op/s reads as MiB/s.
/// </summary>
[MemoryDiagnoser]
public class PeerTransferBenchmarks
{
    private const int MiB = 1 << 20;
    private const int BlobMiB = 64;

    private WebApplication _server = null!;
    private PeerClient _client = null!;
    private TestCertificateAuthority _authority = null!;
    private string _member = null!;
    private byte[] _blob = null!;

    [Params("plain", "tls")]
    public string Transport { get; set; } = "plain";

    [GlobalSetup]
    public async Task StartPeer()
    {
        _blob = new byte[BlobMiB * MiB];
        new Random(7).NextBytes(_blob);
        _authority = TestCertificateAuthority.Create();
        var tls = Transport == "tls";
        using var certificate = X509Certificate2.CreateFromPemFile(_authority.CertificatePath, _authority.KeyPath);
        // Kestrel keeps using the certificate for every handshake: an exported copy outlives the one loaded from PEM.
        var served = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, endpoint =>
        {
            endpoint.Protocols = HttpProtocols.Http1;
            if (tls)
            {
                endpoint.UseHttps(served);
            }
        }));
        _server = builder.Build();
        _server.Run(context =>
        {
            context.Response.ContentLength = _blob.Length;
            return context.Response.Body.WriteAsync(_blob, context.RequestAborted).AsTask();
        });
        await _server.StartAsync();
        var address = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        _member = PeerMember.CanonicalUrl($"{address.Scheme}://127.0.0.1:{address.Port}");
        var options = new PeerOptions { TlsCaFile = tls ? _authority.CaPath : null };
        _client = new PeerClient(options, new PeerProof(PeerSecret.FromText("a-benchmark-peer-secret-of-32-bytes"), TimeProvider.System), "http://127.0.0.1:1", NullLogger.Instance);
    }

    [GlobalCleanup]
    public async Task StopPeer()
    {
        _client.Dispose();
        await _server.StopAsync();
        await _server.DisposeAsync();
        _authority.Dispose();
    }

    /// <summary>One whole blob GET on a kept-alive connection, read to its end in 64 KiB reads as a fill reads a peer's body.</summary>
    [Benchmark(OperationsPerInvoke = BlobMiB)]
    public async Task<long> Blob_from_a_peer()
    {
        using var response = await _client.SendAsync(HttpMethod.Get, _member, "/v2/team/app/blobs/sha256:0?ns=harbor.example", null, null, CancellationToken.None);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }
        return total == _blob.Length ? total : throw new InvalidOperationException($"read {total} of {_blob.Length} bytes");
    }
}
