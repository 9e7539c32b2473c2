using System.Net;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>How <c>--upstream</c> rules reach the real registry: Harbor's proxy-cache project prefix and a second URL on failure.</summary>
public sealed class UpstreamRouteTests
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task A_proxy_cache_project_prefix_maps_docker_io_library_nginx_under_the_project()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 601);
        var image = await builder.BuildAsync("dockerhub-proxy/library/nginx", "1.27", [16 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(["--upstream", $"docker.io={registry.BaseUri}dockerhub-proxy"]);

        using var manifest = await GetManifestAsync(agent, "/v2/library/nginx/manifests/1.27?ns=docker.io");
        using var blob = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/library/nginx/blobs/{image.Layers[0].Digest}?ns=docker.io"));

        Assert.Equal(image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        Assert.Equal(image.Layers[0].ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, await registry.CountBlobGetsAsync(image.Layers[0].Digest, "dockerhub-proxy/library/nginx"));
    }

    [Fact]
    public async Task Without_ns_a_request_is_for_the_default_registry()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 602);
        var image = await builder.BuildAsync("library/busybox", "1", [8 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(["--upstream", $"docker.io={registry.BaseUri}"]);

        using var manifest = await GetManifestAsync(agent, "/v2/library/busybox/manifests/1");

        Assert.Equal(image.ManifestDigest.ToString(), Assert.Single(manifest.Headers.GetValues("Docker-Content-Digest")));
    }

    [Fact]
    public async Task When_the_first_url_is_down_the_next_one_serves()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 603);
        var image = await builder.BuildAsync("team/failover", "1", [64 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        var down = $"http://127.0.0.1:{LoopbackPort.Next()}";
        await using var agent = await AgentProcess.StartAsync(["--upstream", $"harbor.test={down},{registry.BaseUri}"]);

        using var manifest = await GetManifestAsync(agent, $"/v2/{image.Repository}/manifests/1?ns=harbor.test");
        using var blob = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{image.Repository}/blobs/{image.Layers[0].Digest}?ns=harbor.test"));

        Assert.Equal(image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        Assert.Equal(image.Layers[0].ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_plain_http_registry_fetched_over_https_gets_a_503_that_names_it_and_says_to_use_an_http_upstream()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 603);
        var image = await builder.BuildAsync("team/app", "1", [8 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        using var secrets = TempFolder.Create("plain-http");
        var credentials = secrets.Combine("robot");
        await File.WriteAllTextAsync(credentials, "robot:s3cret-password");
        // No rule: the default registry is fetched direct, that is over https, from a registry that speaks plain HTTP.
        await using var agent = await AgentProcess.StartAsync(["--default-registry", registry.HostPort, "--credentials", $"{registry.HostPort}={credentials}"]);
        var advice = $"use --upstream {registry.HostPort}=http://{registry.HostPort}";

        using var response = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{image.Repository}/manifests/{image.Tag}"));
        var body = await response.Content.ReadAsStringAsync();
        var inspect = await Skopeo.InspectAsync(Skopeo.Docker(agent.HostPort, $"{image.Repository}:{image.Tag}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains($"https://{registry.HostPort}/ does not speak TLS, it answers plain HTTP: {advice}", body, StringComparison.Ordinal);
        Assert.False(inspect.Succeeded);
        Assert.Contains(advice, inspect.Stderr, StringComparison.Ordinal);
        Assert.Contains(advice, agent.Output.Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", body + agent.Output.Text(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> GetManifestAsync(AgentProcess agent, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(agent.BaseUri, pathAndQuery));
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.ManifestAccept);
        var response = await _http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{pathAndQuery}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{agent.LogTail()}");
        return response;
    }
}
