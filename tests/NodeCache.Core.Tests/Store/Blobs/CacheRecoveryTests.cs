using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Blobs;

namespace NodeCache.Core.Tests.Store.Blobs;

public sealed class CacheRecoveryTests : IDisposable
{
    private CacheFolder _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public async Task Blobs_committed_after_the_last_checkpoint_are_verified_and_indexed_again_with_their_manifest_media_type()
    {
        var before = _cache.Put("before checkpoint");
        await _cache.Index.CheckpointAsync();
        var (manifest, blobs) = _cache.PutImage("after checkpoint");

        _cache = await _cache.RestartAsync(checkpointFirst: false);
        Assert.False(_cache.Store.Contains(manifest));
        var report = Recover();

        Assert.Equal(4, report.FilesAdopted);
        Assert.Equal(0, report.FilesDeleted);
        Assert.All<Digest>([before, manifest, .. blobs], digest => Assert.True(_cache.Store.TryGet(digest, out _)));
        Assert.True(_cache.Store.TryGet(manifest, out var adopted));
        Assert.Equal(MediaTypes.OciManifest, adopted.MediaType);
        Assert.Equal(SizeOfFiles(), _cache.Store.UsedBytes);
        Assert.Equal(5, report.Blobs);
    }

    [Fact]
    public async Task Temp_files_and_unindexed_files_whose_bytes_are_not_their_name_are_deleted()
    {
        _cache = await _cache.RestartAsync(checkpointFirst: false);
        var temp = _cache.Layout.NewTempPath(TestDigests.Of(1));
        File.WriteAllBytes(temp, new byte[100]);
        var liar = _cache.Layout.BlobPath(TestDigests.Of(2));
        File.WriteAllBytes(liar, new byte[100]);
        var stray = Path.Combine(_cache.Layout.BlobDirectory(DigestAlgorithm.Sha256), "not-a-digest");
        File.WriteAllBytes(stray, new byte[10]);

        var report = Recover();

        Assert.Equal(1, report.TempFilesRemoved);
        Assert.Equal(2, report.FilesDeleted);
        Assert.Empty(Directory.GetFiles(_cache.Layout.TempDirectory));
        Assert.Empty(Directory.GetFiles(_cache.Layout.BlobDirectory(DigestAlgorithm.Sha256)));
        Assert.Equal(0, _cache.Store.UsedBytes);
    }

    [Fact]
    public async Task Records_whose_file_is_gone_or_of_another_size_are_dropped_and_such_a_file_deleted()
    {
        var gone = _cache.Put("gone");
        var truncated = _cache.Put("truncated", size: 5000);
        var good = _cache.Put("good");
        _cache = await _cache.RestartAsync(checkpointFirst: true);
        File.Delete(_cache.Layout.BlobPath(gone));
        using (var file = File.OpenWrite(_cache.Layout.BlobPath(truncated)))
        {
            file.SetLength(100);
        }

        var report = Recover();

        Assert.Equal(2, report.RecordsDropped);
        Assert.False(_cache.Store.Contains(gone));
        Assert.False(_cache.Store.Contains(truncated));
        Assert.False(File.Exists(_cache.Layout.BlobPath(truncated)));
        Assert.True(_cache.Store.Contains(good));
        Assert.Equal(1000, _cache.Store.UsedBytes);
    }

    private RecoveryReport Recover() => CacheRecovery.Run(_cache.Layout, _cache.Store, _cache.Index.Blobs, NullLogger.Instance);

    private long SizeOfFiles() => DigestAlgorithms.All.Sum(algorithm => new DirectoryInfo(_cache.Layout.BlobDirectory(algorithm)).EnumerateFiles().Sum(f => f.Length));
}
