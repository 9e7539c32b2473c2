using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Store.Index;

/// <summary>
/// A node's cache outlives the agent that wrote it. Fixtures/cache-before-sha512.tar.gz is a cache folder written (and
/// checkpointed) by the last version that knew only sha256: 40 layers, a config and a manifest, tags 1 and latest of
/// harbor.test/team/app naming it, and layer 0 touched an hour after the rest were written.
/// </summary>
public sealed class ExistingCacheTests : IDisposable
{
    private static readonly DateTimeOffset Written = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly RepositoryName App = RepositoryName.Parse("team/app");
    private static readonly Digest Manifest = Digest.Parse("sha256:125a2f1194ad84236372179fd7e5405b139af6770d08efa585b8f97503118fd9");
    private static readonly Digest Config = Digest.Parse("sha256:9d99a75171aea000c711b34c0e5e3f28d3d537dd99d110eafbfbc2bd8e52c2bf");

    private CacheFolder _cache;

    public ExistingCacheTests()
    {
        var folder = TempFolder.Create("cache-before-sha512");
        using (var fixture = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Store", "Index", "Fixtures", "cache-before-sha512.tar.gz")))
        using (var gzip = new GZipStream(fixture, CompressionMode.Decompress))
        {
            TarFile.ExtractToDirectory(gzip, folder.Path, overwriteFiles: false);
        }
        _cache = new CacheFolder(folder);
    }

    public void Dispose() => _cache.Dispose();

    private static byte[] Layer(int i) => Encoding.UTF8.GetBytes($"layer {i} of a cache written before sha512");

    [Fact]
    public void A_cache_written_before_sha512_opens_with_every_blob_and_tag_it_had()
    {
        Assert.Equal(42, _cache.Index.Blobs.Count);
        for (var i = 0; i < 40; i++)
        {
            var digest = Digest.Compute(Layer(i));
            Assert.True(_cache.Index.Blobs.TryGet(digest, out var record), $"layer {i}");
            Assert.Equal(Layer(i).Length, record.Size);
            Assert.Equal("application/vnd.oci.image.layer.v1.tar+gzip", record.MediaType);
            Assert.Equal(Written, record.CreatedAt);
            Assert.Equal(i == 0 ? Written.AddHours(1) : Written, record.LastAccessAt);
        }
        Assert.True(_cache.Index.Blobs.TryGet(Config, out _));
        Assert.True(_cache.Index.Tags.TryGet("harbor.test", App, "1", out var tag));
        Assert.Equal(new TagRecord(Manifest, MediaTypes.OciManifest, 705, Written.AddHours(1)), tag);
        Assert.Equal(2, _cache.Index.Tags.Entries().Count());
    }

    [Fact]
    public void A_cache_written_before_sha512_serves_its_files_and_recovery_finds_nothing_to_mend()
    {
        var report = CacheRecovery.Run(_cache.Layout, _cache.Store, _cache.Index.Blobs, NullLogger.Instance);

        Assert.Equal((0, 0, 0, 42L), (report.RecordsDropped, report.FilesAdopted, report.FilesDeleted, report.Blobs));
        Assert.True(_cache.Store.TryGet(Manifest, out var manifest));
        Assert.True(Manifest.Matches(File.ReadAllBytes(manifest.Path)));
        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
        Assert.True(_cache.Store.TryGet(Digest.Compute(Layer(7)), out var layer));
        Assert.Equal(Layer(7), File.ReadAllBytes(layer.Path));
        Assert.Equal(Path.Combine(_cache.Layout.Root, "blobs", "sha256", Digest.Compute(Layer(7)).Hex), layer.Path);
    }

    [Fact]
    public async Task A_cache_written_before_sha512_takes_sha512_content_beside_its_own_and_keeps_both_across_a_restart()
    {
        var sha512 = _cache.Put("sha512 layer", 3000, algorithm: DigestAlgorithm.Sha512);
        var sha256 = _cache.Put("sha256 layer", 3000);
        _cache.Index.Tags.Upsert("harbor.test", App, "2", new TagRecord(Digest.Compute(DigestAlgorithm.Sha512, Layer(1)), MediaTypes.OciManifest, 10, Written));

        _cache = await _cache.RestartAsync(checkpointFirst: true);

        Assert.Equal(44, _cache.Index.Blobs.Count);
        Assert.True(_cache.Store.TryGet(sha512, out var added));
        Assert.Equal(Path.Combine(_cache.Layout.Root, "blobs", "sha512", sha512.Hex), added.Path);
        Assert.True(_cache.Store.TryGet(sha256, out _));
        Assert.True(_cache.Store.TryGet(Digest.Compute(Layer(39)), out _));
        Assert.True(_cache.Index.Tags.TryGet("harbor.test", App, "1", out var old));
        Assert.Equal(Manifest, old.Digest);
        Assert.True(_cache.Index.Tags.TryGet("harbor.test", App, "2", out var added512));
        Assert.Equal(DigestAlgorithm.Sha512, added512.Digest.Algorithm);
        Assert.Equal(3, _cache.Index.Tags.Entries().Count());
    }
}
