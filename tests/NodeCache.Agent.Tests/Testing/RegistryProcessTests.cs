using System.Net;
using System.Security.Cryptography;
using NodeCache.Testing;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Testing;

public sealed class RegistryProcessTests
{
    [Fact]
    public async Task A_pushed_image_comes_back_with_identical_digests()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 11);
        var image = await builder.BuildAsync("library/app", "1.0", [64 * OciImageBuilder.KiB, 300 * OciImageBuilder.KiB], filesPerLayer: 3);
        var pusher = OciPusher.For(registry);
        await pusher.PushAsync(image);

        using var manifest = await pusher.Client.GetManifestAsync("library/app", "1.0");
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(image.ManifestMediaType, manifest.Content.Headers.ContentType?.MediaType);
        Assert.Equal(image.ManifestDigest.ToString(), manifest.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());

        var layer = image.Layers[1];
        using var blob = await pusher.Client.GetBlobAsync("library/app", layer.Digest);
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        var bytes = await blob.Content.ReadAsByteArrayAsync();
        Assert.Equal(layer.Digest, Digest.Compute(bytes));
        Assert.Equal(layer.Size, bytes.LongLength);
    }

    [Fact]
    public async Task The_request_log_counts_blob_and_manifest_requests()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 12);
        var image = await builder.BuildAsync("team/counted", "v1", [10 * OciImageBuilder.KiB]);
        var pusher = OciPusher.For(registry);
        await pusher.PushAsync(image);
        Assert.Equal(0, await registry.CountBlobGetsAsync());

        for (var i = 0; i < 2; i++)
        {
            using var blob = await pusher.Client.GetBlobAsync("team/counted", image.Layers[0].Digest);
            await blob.Content.ReadAsByteArrayAsync();
        }
        using (await pusher.Client.HeadManifestAsync("team/counted", "v1"))
        using (await pusher.Client.GetManifestAsync("team/counted", "v1"))
        using (await pusher.Client.GetManifestAsync("team/counted", "missing"))
        {
        }

        Assert.Equal(2, await registry.CountBlobGetsAsync(image.Layers[0].Digest));
        Assert.Equal(0, await registry.CountBlobGetsAsync(image.Config.Digest));
        Assert.Equal(2, await registry.CountManifestRequestsAsync("v1"));
        Assert.Equal(1, await registry.CountManifestRequestsAsync("v1", method: "HEAD"));
        var requests = await registry.RequestsAsync();
        Assert.Equal(404, requests.Single(r => r.Reference == "missing").Status);
        // The fixture's readiness polls and log sentinels are its own business, not the registry's traffic.
        Assert.DoesNotContain(requests, r => r.Route == RegistryRoute.Base);
    }

    [Fact]
    public async Task A_manifest_request_without_accept_is_refused_by_the_registry()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 13);
        var image = await builder.BuildAsync("library/plain", "1", [KiB4]);
        await OciPusher.For(registry).PushAsync(image);

        using var http = new HttpClient { BaseAddress = registry.BaseUri };
        using var response = await http.GetAsync("/v2/library/plain/manifests/1");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_big_layer_is_pushed_in_chunks_and_served_whole()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 14);
        var image = await builder.BuildAsync("library/big", "1", [40 * OciImageBuilder.MiB]);
        Assert.True(image.Layers[0].Size > OciPusher.ChunkSize * 2);
        var pusher = OciPusher.For(registry);
        await pusher.PushAsync(image);

        using var blob = await pusher.Client.GetBlobAsync("library/big", image.Layers[0].Digest);
        await using var body = await blob.Content.ReadAsStreamAsync();
        var hash = await SHA256.HashDataAsync(body);
        Assert.Equal(image.Layers[0].Digest, Digest.FromHash(hash));
        var uploads = (await registry.RequestsAsync()).Count(r => r.Method == "PATCH" && r.Route == RegistryRoute.BlobUpload);
        Assert.Equal(3, uploads);
    }

    [Fact]
    public async Task A_multi_arch_index_is_pushed_and_served()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 15);
        var index = await builder.BuildIndexAsync("library/multi", "2.0", [KiB4, KiB4]);
        var pusher = OciPusher.For(registry);
        await pusher.PushAsync(index);

        using var response = await pusher.Client.GetManifestAsync("library/multi", "2.0");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MediaTypes.OciIndex, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(index.IndexBytes, await response.Content.ReadAsByteArrayAsync());
        foreach (var image in index.Images)
        {
            using var child = await pusher.Client.GetManifestAsync("library/multi", image.ManifestDigest.ToString());
            Assert.Equal(image.ManifestBytes, await child.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(["amd64", "arm64"], index.Images.Select(i => i.Architecture));
    }

    [Fact]
    public async Task A_docker_schema2_image_is_served_with_its_media_type()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 16);
        var image = await builder.BuildAsync("library/docker", "1", [KiB4], ManifestFormat.Docker);
        var pusher = OciPusher.For(registry);
        await pusher.PushAsync(image);

        using var response = await pusher.Client.GetManifestAsync("library/docker", "1", MediaTypes.DockerManifest);
        Assert.Equal(MediaTypes.DockerManifest, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(image.ManifestDigest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task The_registry_restarts_on_the_same_port_with_its_content()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 17);
        var image = await builder.BuildAsync("library/durable", "1", [KiB4]);
        var pusher = OciPusher.For(registry);
        await pusher.PushAsync(image);

        await registry.StopAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => pusher.Client.GetManifestAsync("library/durable", "1"));
        await registry.RestartAsync();

        using var response = await pusher.Client.GetManifestAsync("library/durable", "1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, await registry.CountManifestRequestsAsync(method: "PUT") + await registry.CountManifestRequestsAsync("1", "GET"));
    }

    private const long KiB4 = 4 * OciImageBuilder.KiB;
}
