using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Testing;

public sealed class ContainerdProcessTests(ContainerdFixture fixture) : IClassFixture<ContainerdFixture>
{
    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public async Task Containerd_pulls_straight_from_the_registry_through_hosts_toml()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 31);
        var image = await builder.BuildAsync("library/direct", "1", [256 * OciImageBuilder.KiB, 64 * OciImageBuilder.KiB], filesPerLayer: 2);
        await OciPusher.For(registry).PushAsync(image);
        // A registry name that resolves nowhere: only hosts.toml's server can make the pull work.
        const string host = "upstream.direct.test";
        Containerd.WriteHosts(host, registry.BaseUri.ToString().TrimEnd('/'));
        var reference = image.Reference(host);

        await Containerd.PullAsync(reference);
        Assert.Contains(reference, await Containerd.ImageNamesAsync());
        Assert.Contains(image.Layers[0].Digest.ToString(), await Containerd.ContentDigestsAsync());
        await Containerd.RemoveImageAsync(reference);
        Assert.Empty(await Containerd.ContentDigestsAsync());
        await Containerd.PullAsync(reference);
        await Containerd.RemoveImageAsync(reference);

        foreach (var blob in image.Blobs)
        {
            Assert.Equal(2, await registry.CountBlobGetsAsync(blob.Digest));
        }
    }

    [Fact]
    public async Task Containerd_pulls_through_the_cri_as_the_kubelet_does()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 32);
        var image = await builder.BuildAsync("library/kubelet", "1", [128 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        const string host = "upstream.cri.test";
        Containerd.WriteHosts(host, registry.BaseUri.ToString().TrimEnd('/'));
        var reference = image.Reference(host);

        var imageRef = await Containerd.CriPullAsync(reference);

        Assert.Equal(image.Config.Digest.ToString(), imageRef);
        var status = await Containerd.CriImageStatusAsync(reference);
        Assert.NotNull(status);
        Assert.Contains(reference, status.RepoTags);
        Assert.Contains($"{host}/{image.Repository}@{image.ManifestDigest}", status.RepoDigests);
        await Containerd.CriRemoveAsync(reference);
        Assert.Null(await Containerd.CriImageStatusAsync(reference));
        Assert.Equal(imageRef, await Containerd.CriPullAsync(reference));
        await Containerd.CriRemoveAsync(reference);
        Assert.Equal(2, await registry.CountBlobGetsAsync(image.Layers[0].Digest));
    }

    [Fact]
    public async Task Containerd_pulls_its_own_platform_from_a_multi_arch_index()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 33);
        var index = await builder.BuildIndexAsync("library/multi", "1", [32 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(index);
        const string host = "upstream.multi.test";
        Containerd.WriteHosts(host, registry.BaseUri.ToString().TrimEnd('/'));

        await Containerd.PullAsync(index.Reference(host), platform: "linux/arm64");
        await Containerd.RemoveImageAsync(index.Reference(host));

        Assert.Equal(1, await registry.CountBlobGetsAsync(index.ForArchitecture("arm64").Layers[0].Digest));
        Assert.Equal(0, await registry.CountBlobGetsAsync(index.ForArchitecture("amd64").Layers[0].Digest));
    }

    [Fact]
    public async Task Containerd_pulls_from_a_token_registry_anonymously_and_as_a_user()
    {
        var policy = new AccessPolicy()
            .WithUser("pusher", "push-secret").Grant("pusher", "*", RepositoryAccess.Pull, RepositoryAccess.Push)
            .WithUser("reader", "read-secret").Grant("reader", "private/*", RepositoryAccess.Pull)
            .WithPublicRepository("library/*");
        await using var tokens = await TokenServer.StartAsync(policy);
        await using var registry = await RegistryProcess.StartAsync(tokens);
        using var builder = new OciImageBuilder(seed: 34);
        var open = await builder.BuildAsync("library/open", "1", [16 * OciImageBuilder.KiB]);
        var closed = await builder.BuildAsync("private/closed", "1", [16 * OciImageBuilder.KiB]);
        var pusher = OciPusher.For(registry, new System.Net.NetworkCredential("pusher", "push-secret"));
        await pusher.PushAsync(open);
        await pusher.PushAsync(closed);
        const string host = "upstream.token.test";
        Containerd.WriteHosts(host, registry.BaseUri.ToString().TrimEnd('/'));

        await Containerd.PullAsync(open.Reference(host));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Containerd.PullAsync(closed.Reference(host)));
        await Containerd.PullAsync(closed.Reference(host), "reader:read-secret");
        await Containerd.RemoveImageAsync(open.Reference(host));
        await Containerd.RemoveImageAsync(closed.Reference(host));

        Assert.Contains("insufficient_scope", refused.Message, StringComparison.Ordinal);
        Assert.Contains("containerd successfully booted", refused.Message, StringComparison.Ordinal);
        Assert.True(tokens.CountRequests("repository:library/open:pull") >= 1);
        Assert.Contains(tokens.Requests(), r => r.User == "reader" && r.Scopes.Contains("repository:private/closed:pull"));
    }
}
