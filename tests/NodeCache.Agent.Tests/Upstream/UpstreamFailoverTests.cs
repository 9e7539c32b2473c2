using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Upstream;

/// <summary>
/// <c>--upstream NS=URL1,URL2</c> against two real registries: this cluster's Harbor first, another region's next, tried
/// on connection errors and 5xx, never on a denial.
/// </summary>
public sealed class UpstreamFailoverTests
{
    private const string Harbor = "harbor.test";

    [Fact]
    public async Task The_next_upstream_serves_when_the_first_answers_503_and_when_it_is_down()
    {
        await using var first = await PolicyUpstream.StartAsync(seed: 511, images: 2);
        await using var second = await RegistryProcess.StartAsync();
        foreach (var image in first.Images)
        {
            await OciPusher.For(second).PushAsync(image);
        }
        var firstUri = first.Proxy.BaseUri.ToString().TrimEnd('/');
        await using var agent = await AgentProcess.StartAsync(["--upstream", $"{Harbor}={firstUri},{second.BaseUri.ToString().TrimEnd('/')}", "--connect-timeout", "1s"]);
        using var http = new HttpClient();
        first.Proxy.Unavailable = true;

        var failing = first.Images[0];
        using (var response = await UpstreamDenialTests.SendAsync(http, HttpMethod.Get, UpstreamDenialTests.ManifestUri(agent, failing, failing.Tag!)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(failing.ManifestBytes, await response.Content.ReadAsByteArrayAsync());
        }
        Assert.Contains(first.Proxy.Requests(), r => r.Status == 503);
        Assert.Equal(1, await second.CountManifestRequestsAsync(failing.Tag!, repository: failing.Repository));

        await first.Proxy.DisposeAsync();

        var down = first.Images[1];
        using (var response = await UpstreamDenialTests.SendAsync(http, HttpMethod.Get, UpstreamDenialTests.ManifestUri(agent, down, down.ManifestDigest.ToString())))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var blob = await http.GetAsync(new Uri(agent.BaseUri, $"/v2/{down.Repository}/blobs/{down.Layers[0].Digest}?ns={Harbor}")))
        {
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            Assert.Equal(down.Layers[0].ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(1, await second.CountBlobGetsAsync(down.Layers[0].Digest));
    }

    [Fact]
    public async Task A_denial_from_the_first_upstream_is_the_answer_and_the_next_is_not_asked()
    {
        await using var first = await PolicyUpstream.StartAsync(seed: 512, images: 1);
        await using var second = await RegistryProcess.StartAsync();
        var image = first.Images[0];
        await OciPusher.For(second).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(["--upstream", $"{Harbor}={first.Proxy.BaseUri.ToString().TrimEnd('/')},{second.BaseUri.ToString().TrimEnd('/')}"]);
        using var http = new HttpClient();
        first.Proxy.DenyManifest(image.ManifestDigest, "the artifact is not signed by a trusted key");

        using var denied = await UpstreamDenialTests.SendAsync(http, HttpMethod.Get, UpstreamDenialTests.ManifestUri(agent, image, image.Tag!));

        Assert.Equal(HttpStatusCode.PreconditionFailed, denied.StatusCode);
        Assert.Contains("not signed by a trusted key", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await second.CountManifestRequestsAsync());
    }
}
