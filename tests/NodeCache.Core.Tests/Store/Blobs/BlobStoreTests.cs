using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Store.Blobs;

public sealed class BlobStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private const string LayerType = "application/vnd.oci.image.layer.v1.tar+gzip";

    private readonly TempFolder _folder = TempFolder.Create("blob-store");
    private readonly CacheLayout _layout;
    private readonly CacheIndex _index;
    private readonly ManualTime _time = new(T0);
    private readonly BlobStore _store;

    public BlobStoreTests()
    {
        _layout = new CacheLayout(_folder.Path);
        _index = CacheIndex.Open(_layout.IndexDirectory, NullLogger.Instance);
        _store = new BlobStore(_layout, _index.Blobs, _time, NullLogger.Instance);
    }

    public void Dispose()
    {
        _index.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void Commit_moves_the_temp_file_into_place_and_indexes_it()
    {
        var (digest, content) = Content("layer bytes");
        var temp = WriteTemp(digest, content);

        var blob = _store.Commit(temp, digest, content.Length, LayerType);

        Assert.Equal(new CachedBlob(digest, _layout.BlobPath(digest), content.Length, LayerType), blob);
        Assert.False(File.Exists(temp));
        Assert.Equal(content, File.ReadAllBytes(blob.Path));
        Assert.True(_index.Blobs.TryGet(digest, out var record));
        Assert.Equal(new BlobRecord(content.Length, LayerType, BlobState.Committed, T0, T0), record);
    }

    [Fact]
    public void A_blob_moved_into_place_is_not_cached_until_it_is_indexed()
    {
        var (digest, content) = Content("layer bytes written by a fill");
        var temp = WriteTemp(digest, content);

        using (_store.MoveIntoPlace(temp, digest, LayerType, out var path))
        {
            Assert.Equal(_layout.BlobPath(digest), path);
            Assert.Equal(content, File.ReadAllBytes(path));
            Assert.False(File.Exists(temp));
            Assert.False(_store.Contains(digest));
            Assert.False(_store.TryGet(digest, out _));
            Assert.Equal(0, _store.UsedBytes);

            _store.Index(digest, content.Length, LayerType);
        }

        Assert.True(_store.TryGet(digest, out var blob));
        Assert.Equal(new CachedBlob(digest, _layout.BlobPath(digest), content.Length, LayerType), blob);
        Assert.Equal(content.Length, _store.UsedBytes);
    }

    [Fact]
    public void A_blob_being_removed_is_a_miss_before_its_record_goes()
    {
        var (digest, content) = Content("layer bytes an eviction is taking");
        _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);

        Assert.True(_store.Leases.TryBeginRemoval(digest));
        Assert.False(_store.TryGet(digest, out _));
        _store.Leases.EndRemoval(digest);

        Assert.True(_store.TryGet(digest, out _));
    }

    [Fact]
    public void A_blob_between_its_move_into_place_and_its_record_cannot_be_removed()
    {
        var (digest, content) = Content("layer bytes cached before");
        _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);

        using (_store.MoveIntoPlace(WriteTemp(digest, content), digest, LayerType, out _))
        {
            Assert.Equal(BlobRemoval.InUse, _store.TryRemove(digest));
            _store.Index(digest, content.Length, LayerType);
        }

        Assert.True(_store.TryGet(digest, out var blob));
        Assert.Equal(content, File.ReadAllBytes(blob.Path));
        Assert.Equal(BlobRemoval.Removed, _store.TryRemove(digest));
    }

    [Fact]
    public async Task A_blob_committed_while_an_older_copy_is_being_removed_waits_for_the_removal_and_keeps_its_file()
    {
        var (digest, content) = Content("layer bytes evicted and fetched again");
        _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);
        var removal = RemovalUnderWay.Begin(_store, _layout, digest, content.Length);

        var commit = Task.Run(() => _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType));
        // The removal is under way: it has found the old record, and goes on to drop it and delete the file.
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(commit.IsCompleted);
        removal.Finish();
        var blob = await commit.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(_store.TryGet(digest, out var cached));
        Assert.Equal(blob, cached);
        Assert.Equal(content, File.ReadAllBytes(blob.Path));
        Assert.Equal(content.Length, _store.UsedBytes);
    }

    [Fact]
    public void A_committed_blob_is_served_and_touched()
    {
        var (digest, content) = Content("layer bytes");
        _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);
        _time.Now = T0.AddHours(3);

        Assert.True(_store.TryGet(digest, out var blob));

        Assert.Equal(new CachedBlob(digest, _layout.BlobPath(digest), content.Length, LayerType), blob);
        Assert.True(_index.Blobs.TryGet(digest, out var record));
        Assert.Equal(T0.AddHours(3), record.LastAccessAt);
        Assert.Equal(T0, record.CreatedAt);
    }

    [Fact]
    public void Contains_does_not_touch()
    {
        var (digest, content) = Content("layer bytes");
        _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);
        _time.Now = T0.AddHours(3);

        Assert.True(_store.Contains(digest));
        Assert.False(_store.Contains(TestDigests.Of("absent")));

        Assert.True(_index.Blobs.TryGet(digest, out var record));
        Assert.Equal(T0, record.LastAccessAt);
    }

    [Fact]
    public void Unknown_blob_is_not_served()
    {
        Assert.False(_store.TryGet(TestDigests.Of("absent"), out _));
    }

    [Fact]
    public void A_record_whose_file_is_missing_is_dropped()
    {
        var (digest, content) = Content("layer bytes");
        var blob = _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);
        File.Delete(blob.Path);

        Assert.False(_store.TryGet(digest, out _));

        Assert.False(_index.Blobs.TryGet(digest, out _));
    }

    [Fact]
    public void A_record_whose_file_has_another_size_is_dropped_with_the_file()
    {
        var (digest, content) = Content("layer bytes");
        var blob = _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);
        File.WriteAllBytes(blob.Path, content[..^1]);

        Assert.False(_store.TryGet(digest, out _));

        Assert.False(_index.Blobs.TryGet(digest, out _));
        Assert.False(File.Exists(blob.Path));
    }

    [Fact]
    public void Committing_a_digest_twice_replaces_the_file()
    {
        var (digest, content) = Content("layer bytes");
        _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);

        var second = _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);

        Assert.Equal(content, File.ReadAllBytes(second.Path));
        Assert.Empty(Directory.EnumerateFiles(_layout.TempDirectory));
        Assert.Equal(1, _index.Blobs.Count);
        Assert.True(_store.TryGet(digest, out _));
    }

    [Fact]
    public void Commit_refuses_an_unstorable_media_type_before_moving_the_file()
    {
        var (digest, content) = Content("layer bytes");
        var temp = WriteTemp(digest, content);

        Assert.Throws<ArgumentException>(() => _store.Commit(temp, digest, content.Length, "application/" + new string('x', 300)));

        Assert.True(File.Exists(temp));
        Assert.False(File.Exists(_layout.BlobPath(digest)));
        Assert.False(_store.Contains(digest));
    }

    [Fact]
    public void Put_writes_small_content_and_commits_it()
    {
        var (digest, content) = Content("""{"schemaVersion":2}""");

        var blob = _store.Put(digest, content, MediaTypes.OciManifest);

        Assert.Equal(content, File.ReadAllBytes(blob.Path));
        Assert.True(_store.TryGet(digest, out var served));
        Assert.Equal(new CachedBlob(digest, _layout.BlobPath(digest), content.Length, MediaTypes.OciManifest), served);
        Assert.Empty(Directory.EnumerateFiles(_layout.TempDirectory));
    }

    [Fact]
    public void Put_refuses_content_that_does_not_match_the_digest()
    {
        var (digest, _) = Content("""{"schemaVersion":2}""");
        var other = Encoding.UTF8.GetBytes("""{"schemaVersion":3}""");

        Assert.Throws<ArgumentException>(() => _store.Put(digest, other, MediaTypes.OciManifest));

        Assert.False(_store.Contains(digest));
        Assert.False(File.Exists(_layout.BlobPath(digest)));
        Assert.Empty(Directory.EnumerateFiles(_layout.TempDirectory));
    }

    [Fact]
    public void A_sha512_blob_is_put_under_blobs_sha512_and_refused_when_its_bytes_are_another_blobs()
    {
        var content = Encoding.UTF8.GetBytes("""{"schemaVersion":2}""");
        var digest = Digest.Compute(DigestAlgorithm.Sha512, content);

        Assert.Throws<ArgumentException>(() => _store.Put(digest, Encoding.UTF8.GetBytes("""{"schemaVersion":3}"""), MediaTypes.OciManifest));
        Assert.False(_store.Contains(digest));
        var blob = _store.Put(digest, content, MediaTypes.OciManifest);

        Assert.Equal(Path.Combine(_folder.Path, "blobs", "sha512", digest.Hex), blob.Path);
        Assert.Equal(content, File.ReadAllBytes(blob.Path));
        Assert.True(_store.TryGet(digest, out _));
        Assert.False(_store.Contains(Digest.Compute(content)));
        Assert.Empty(Directory.EnumerateFiles(_layout.TempDirectory));
    }

    [Fact]
    public void Put_leaves_no_temp_file_when_the_commit_fails()
    {
        var (digest, content) = Content("""{"schemaVersion":2}""");

        Assert.Throws<ArgumentException>(() => _store.Put(digest, content, "application/" + new string('x', 300)));

        Assert.Empty(Directory.EnumerateFiles(_layout.TempDirectory));
        Assert.False(_store.Contains(digest));
    }

    [Fact]
    public void DiscardTemp_deletes_the_file_and_ignores_a_missing_one()
    {
        var (digest, content) = Content("partial");
        var temp = WriteTemp(digest, content);

        _store.DiscardTemp(temp);
        _store.DiscardTemp(temp);
        _store.DiscardTemp(_layout.NewTempPath(digest));

        Assert.False(File.Exists(temp));
    }

    [Fact]
    public void DiscardTemp_refuses_paths_outside_tmp()
    {
        var (digest, content) = Content("layer bytes");
        var blob = _store.Commit(WriteTemp(digest, content), digest, content.Length, LayerType);

        Assert.Throws<ArgumentException>(() => _store.DiscardTemp(blob.Path));

        Assert.True(File.Exists(blob.Path));
    }

    [Fact]
    public void RemoveTempFiles_deletes_leftovers_and_counts_them()
    {
        var (digest, content) = Content("interrupted");
        WriteTemp(digest, content);
        WriteTemp(digest, content);
        WriteTemp(TestDigests.Of("another"), content);
        var (committed, committedContent) = Content("committed");
        _store.Commit(WriteTemp(committed, committedContent), committed, committedContent.Length, LayerType);

        Assert.Equal(3, _store.RemoveTempFiles());

        Assert.Empty(Directory.EnumerateFiles(_layout.TempDirectory));
        Assert.True(_store.TryGet(committed, out _));
        Assert.Equal(0, _store.RemoveTempFiles());
    }

    private static (Digest Digest, byte[] Content) Content(string text)
    {
        var content = Encoding.UTF8.GetBytes(text);
        return (Digest.Compute(content), content);
    }

    private string WriteTemp(Digest digest, byte[] content)
    {
        var path = _layout.NewTempPath(digest);
        File.WriteAllBytes(path, content);
        return path;
    }
}
