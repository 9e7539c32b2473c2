using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.Agent.Tests.Testing;

/// <summary>The simulated nodes' HTTP client, checked against the registry behind a proxy that misbehaves: it resumes, falls back as containerd does, and refuses wrong bytes.</summary>
public sealed class MirrorPullTests : IAsyncLifetime
{
    private const string Registry = "harbor.test";

    private readonly OciImageBuilder _builder = new(seed: 515);
    private RegistryProcess _registry = null!;
    private FaultProxy _mirror = null!;
    private BuiltImage _image = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        _mirror = await FaultProxy.StartAsync(_registry.BaseUri);
        _image = await _builder.BuildAsync("team/pulled", "1", [2 * OciImageBuilder.MiB, 512 * OciImageBuilder.KiB]);
        await OciPusher.For(_registry).PushAsync(_image);
    }

    [Fact]
    public async Task A_cut_blob_is_resumed_from_the_byte_reached_with_a_range_request()
    {
        _mirror.Mode = FaultMode.Truncate;
        using var http = new HttpClient();

        var pull = new MirrorPull(http, [_mirror.BaseUri], Registry);
        var pulled = await pull.PullAsync(_image.Repository, _image.Tag!);

        Assert.Equal(_image.ManifestDigest, pulled.ManifestDigest);
        Assert.All(pulled.Blobs, blob =>
        {
            Assert.Equal(2, blob.Attempts);
            Assert.Equal(blob.Size, blob.BytesReceived);
        });
    }

    [Fact]
    public async Task A_mirror_that_is_down_leaves_every_request_to_the_registry()
    {
        await _mirror.GoDownAsync();
        using var http = new HttpClient();

        var pull = new MirrorPull(http, [_mirror.BaseUri, _registry.BaseUri], Registry);
        var pulled = await pull.PullAsync(_image.Repository, _image.Tag!);

        Assert.Equal(2 + _image.Blobs.Count, pulled.FromOtherHosts(_mirror.BaseUri));
        Assert.Equal(_image.Blobs.Sum(b => b.Size), pulled.Size);
    }

    [Fact]
    public async Task Corrupt_bytes_end_the_pull_with_an_error()
    {
        _mirror.Mode = FaultMode.Corrupt;
        using var http = new HttpClient();

        var pull = new MirrorPull(http, [_mirror.BaseUri], Registry);
        var failure = await Assert.ThrowsAsync<PullFailedException>(() => pull.PullAsync(_image.Repository, _image.Tag!));

        Assert.Contains("whose digest is", failure.Message, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        await _mirror.DisposeAsync();
        await _registry.DisposeAsync();
        _builder.Dispose();
    }
}
