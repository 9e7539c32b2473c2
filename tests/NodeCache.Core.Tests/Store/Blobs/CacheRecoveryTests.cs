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

    [Fact]
    public async Task A_sha512_blob_committed_after_the_last_checkpoint_is_verified_by_sha512_and_indexed_again()
    {
        var kept = _cache.Put("sha512 before checkpoint", algorithm: DigestAlgorithm.Sha512);
        await _cache.Index.CheckpointAsync();
        var late = _cache.Put("sha512 after checkpoint", algorithm: DigestAlgorithm.Sha512);

        _cache = await _cache.RestartAsync(checkpointFirst: false);
        Assert.False(_cache.Store.Contains(late));
        var report = Recover();

        Assert.Equal((1, 0, 0), (report.FilesAdopted, report.FilesDeleted, report.RecordsDropped));
        Assert.True(_cache.Store.TryGet(late, out _));
        Assert.True(_cache.Store.TryGet(kept, out _));
        Assert.Equal(2000, _cache.Store.UsedBytes);
    }

    [Fact]
    public async Task A_file_under_blobs_sha512_is_adopted_only_when_its_sha512_is_its_name()
    {
        _cache = await _cache.RestartAsync(checkpointFirst: false);
        var content = CacheFolder.Bytes("content", 100);
        var sha512Folder = _cache.Layout.BlobDirectory(DigestAlgorithm.Sha512);
        // Right bytes under their sha512 name, a sha256 name in the sha512 folder, and a sha512 name over other bytes.
        var good = Digest.Compute(DigestAlgorithm.Sha512, content);
        File.WriteAllBytes(_cache.Layout.BlobPath(good), content);
        File.WriteAllBytes(Path.Combine(sha512Folder, Digest.Compute(content).Hex), content);
        File.WriteAllBytes(_cache.Layout.BlobPath(Digest.Compute(DigestAlgorithm.Sha512, [1])), content);

        var report = Recover();

        Assert.Equal((1, 2), (report.FilesAdopted, report.FilesDeleted));
        Assert.Equal([_cache.Layout.BlobPath(good)], Directory.GetFiles(sha512Folder));
        Assert.True(_cache.Store.TryGet(good, out _));
        Assert.False(_cache.Store.Contains(Digest.Compute(content)));
        Assert.Empty(Directory.GetFiles(_cache.Layout.BlobDirectory(DigestAlgorithm.Sha256)));
    }

    private RecoveryReport Recover() => CacheRecovery.Run(_cache.Layout, _cache.Store, _cache.Index.Blobs, NullLogger.Instance);

    private long SizeOfFiles() => DigestAlgorithms.All.Sum(algorithm => new DirectoryInfo(_cache.Layout.BlobDirectory(algorithm)).EnumerateFiles().Sum(f => f.Length));
}
