using System.Net;
using NodeCache.Testing;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>What the agent serves from its cache when the upstream changes, fails or is gone, and across its own restarts.</summary>
public sealed class CachedContentTests : IAsyncLifetime
{
    private const string Harbor = "harbor.test";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly OciImageBuilder _builder = new(seed: 401);
    private RegistryProcess _registry = null!;

    public async Task InitializeAsync() => _registry = await RegistryProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _builder.Dispose();
        _http.Dispose();
    }

    [Fact]
    public async Task Content_by_digest_once_cached_is_served_with_the_upstream_down()
    {
        var image = await PushAsync("team/app", "1");
        await using var agent = await StartAgentAsync();
        await GetManifestAsync(agent, image.Repository, image.ManifestDigest.ToString());
        await GetBlobAsync(agent, image.Repository, image.Layers[0]);

        await _registry.StopAsync();

        using var manifest = await GetManifestAsync(agent, image.Repository, image.ManifestDigest.ToString());
        Assert.Equal(image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        using var blob = await GetBlobAsync(agent, image.Repository, image.Layers[0]);
        Assert.Equal(image.Layers[0].ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_tag_is_served_stale_when_the_upstream_is_unreachable_and_the_metric_counts_it()
    {
        var image = await PushAsync("team/stale", "1");
        await using var agent = await StartAgentAsync("--tag-ttl", "0s");
        await GetManifestAsync(agent, image.Repository, "1");

        await _registry.StopAsync();
        using var stale = await GetManifestAsync(agent, image.Repository, "1");

        Assert.Equal(image.ManifestDigest.ToString(), Assert.Single(stale.Headers.GetValues("Docker-Content-Digest")));
        Assert.Contains("kind=\"manifest\",result=\"stale\"} 1", await _http.GetStringAsync(new Uri(agent.BaseUri, "/metrics")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Within_its_ttl_a_tag_is_answered_from_the_cache_without_asking_the_upstream()
    {
        var first = await PushAsync("team/ttl", "v1");
        await using var agent = await StartAgentAsync("--tag-ttl", "1h");
        await GetManifestAsync(agent, first.Repository, "v1");
        var asked = await _registry.CountManifestRequestsAsync("v1");

        var moved = await PushAsync("team/ttl", "v1");
        using var response = await GetManifestAsync(agent, first.Repository, "v1");

        Assert.NotEqual(first.ManifestDigest, moved.ManifestDigest);
        Assert.Equal(first.ManifestDigest.ToString(), Assert.Single(response.Headers.GetValues("Docker-Content-Digest")));
        Assert.Equal(asked, await _registry.CountManifestRequestsAsync("v1"));
    }

    [Fact]
    public async Task After_its_ttl_a_moved_tag_is_followed()
    {
        var first = await PushAsync("team/moving", "latest");
        await using var agent = await StartAgentAsync("--tag-ttl", "0s");
        using (var before = await GetManifestAsync(agent, first.Repository, "latest"))
        {
            Assert.Equal(first.ManifestDigest.ToString(), Assert.Single(before.Headers.GetValues("Docker-Content-Digest")));
        }

        var moved = await PushAsync("team/moving", "latest");
        using var after = await GetManifestAsync(agent, first.Repository, "latest");

        Assert.Equal(moved.ManifestDigest.ToString(), Assert.Single(after.Headers.GetValues("Docker-Content-Digest")));
        Assert.Equal(moved.ManifestBytes, await after.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task With_the_upstream_down_a_miss_fails_at_once_so_containerd_moves_on()
    {
        var image = await PushAsync("team/down", "1");
        await using var agent = await StartAgentAsync();
        await _registry.StopAsync();

        using var manifest = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{image.Repository}/manifests/1?ns={Harbor}"));
        using var blob = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{image.Repository}/blobs/{image.Layers[0].Digest}?ns={Harbor}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, manifest.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, blob.StatusCode);
        Assert.False(File.Exists(Path.Combine(agent.CacheDir, "blobs", "sha256", image.Layers[0].Digest.Hex)));
    }

    [Fact]
    public async Task The_index_survives_a_restart_and_serves_without_the_upstream()
    {
        var image = await PushAsync("team/restart", "1");
        await using var agent = await StartAgentAsync();
        await GetManifestAsync(agent, image.Repository, "1");
        foreach (var blob in image.Blobs)
        {
            await GetBlobAsync(agent, image.Repository, blob);
        }

        Assert.Equal(0, await agent.StopAsync());
        await _registry.StopAsync();
        await agent.RestartAsync();

        using var manifest = await GetManifestAsync(agent, image.Repository, "1");
        Assert.Equal(image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        foreach (var blob in image.Blobs)
        {
            using var response = await GetBlobAsync(agent, image.Repository, blob);
            Assert.Equal(blob.ReadAllBytes(), await response.Content.ReadAsByteArrayAsync());
        }
        Assert.Contains($"{image.Blobs.Count + 1} blobs indexed", agent.Output.Text(), StringComparison.Ordinal);
    }

    private Task<AgentProcess> StartAgentAsync(params string[] arguments) =>
        AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, _registry.BaseUri), .. arguments]);

    private async Task<BuiltImage> PushAsync(string repository, string tag)
    {
        var image = await _builder.BuildAsync(repository, tag, [32 * OciImageBuilder.KiB]);
        await OciPusher.For(_registry).PushAsync(image);
        return image;
    }

    private async Task<HttpResponseMessage> GetManifestAsync(AgentProcess agent, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(agent.BaseUri, $"/v2/{repository}/manifests/{reference}?ns={Harbor}"));
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.ManifestAccept);
        var response = await _http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"manifest {reference}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    private async Task<HttpResponseMessage> GetBlobAsync(AgentProcess agent, string repository, BlobFile blob)
    {
        var response = await _http.GetAsync(new Uri(agent.BaseUri, $"/v2/{repository}/blobs/{blob.Digest}?ns={Harbor}"));
        Assert.True(response.IsSuccessStatusCode, $"blob {blob.Digest}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }
}
