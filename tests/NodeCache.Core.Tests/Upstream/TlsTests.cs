using System.Net;
using Microsoft.AspNetCore.Http;
using NodeCache.Core.Tests.Support;
using NodeCache.Testing;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class TlsTests : IDisposable
{
    private readonly TempFolder _folder = TempFolder.Create("ca-bundle");

    private string Bundle => _folder.Combine("ca.pem");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_registry_signed_by_a_private_CA_is_trusted_with_the_CA_bundle()
    {
        using var certificates = TestCertificates.Create(IPAddress.Loopback);
        await File.WriteAllTextAsync(Bundle, certificates.CaPem);
        await using var registry = await LoopbackServer.StartAsync(context => context.Response.WriteAsync("ok"), certificates.Server);
        using var client = TestUpstream.Client(options: TestUpstream.Options with { CaBundlePath = Bundle });

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal("https", registry.BaseUri.Scheme);
        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
    }

    [Fact]
    public async Task Without_the_CA_bundle_the_registry_is_Unreachable()
    {
        using var certificates = TestCertificates.Create(IPAddress.Loopback);
        await using var registry = await LoopbackServer.StartAsync(context => context.Response.WriteAsync("ok"), certificates.Server);
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Unreachable, response.Outcome);
        Assert.Empty(registry.Requests);
    }

    [Fact]
    public async Task The_CA_bundle_does_not_excuse_a_certificate_for_another_name()
    {
        using var certificates = TestCertificates.Create(serverIp: null);
        await File.WriteAllTextAsync(Bundle, certificates.CaPem);
        await using var registry = await LoopbackServer.StartAsync(context => context.Response.WriteAsync("ok"), certificates.Server);
        using var client = TestUpstream.Client(options: TestUpstream.Options with { CaBundlePath = Bundle });

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Unreachable, response.Outcome);
    }

    [Fact]
    public void A_missing_CA_bundle_fails_at_construction_naming_the_path()
    {
        var error = Assert.Throws<IOException>(() => TestUpstream.Client(options: TestUpstream.Options with { CaBundlePath = Bundle }));

        Assert.Contains(Bundle, error.Message, StringComparison.Ordinal);
    }
}
