using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Store.Index;

public sealed class CacheIndexTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly RepositoryName Nginx = RepositoryName.Parse("library/nginx");

    private readonly TempFolder _folder = TempFolder.Create("cache-index");

    public void Dispose() => _folder.Dispose();

    private static BlobRecord Blob(long size) => new(size, MediaTypes.OctetStream, BlobState.Committed, T0, T0);

    private static TagRecord TagOf(int n) => new(TestDigests.Of(n), MediaTypes.OciIndex, n, T0);

    [Fact]
    public void Opening_an_empty_folder_gives_an_empty_index()
    {
        using var index = CacheIndex.Open(Path.Combine(_folder.Path, "index"), NullLogger.Instance);

        Assert.Equal(0, index.Blobs.Count);
        Assert.Empty(index.Blobs.Entries());
        Assert.False(index.Tags.TryGet("docker.io", Nginx, "latest", out _));
        Assert.False(index.HasUncheckpointedChanges);
    }

    [Fact]
    public async Task Index_survives_restart_after_checkpoint()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            index.Blobs.Upsert(TestDigests.Of(1), Blob(1));
            index.Blobs.Upsert(TestDigests.Of(2), Blob(2));
            index.Tags.Upsert("docker.io", Nginx, "latest", TagOf(1));
            await index.CheckpointAsync();
        }

        using var reopened = CacheIndex.Open(_folder.Path, NullLogger.Instance);

        Assert.True(reopened.Blobs.TryGet(TestDigests.Of(1), out var first));
        Assert.Equal(Blob(1), first);
        Assert.True(reopened.Blobs.TryGet(TestDigests.Of(2), out _));
        Assert.Equal(2, reopened.Blobs.Count);
        Assert.True(reopened.Tags.TryGet("docker.io", Nginx, "latest", out var tag));
        Assert.Equal(TagOf(1), tag);
        Assert.False(reopened.HasUncheckpointedChanges);
    }

    [Fact]
    public async Task Changes_after_the_last_checkpoint_are_gone_after_restart()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            index.Blobs.Upsert(TestDigests.Of(1), Blob(1));
            index.Blobs.Upsert(TestDigests.Of(2), Blob(2));
            index.Tags.Upsert("docker.io", Nginx, "latest", TagOf(1));
            await index.CheckpointAsync();

            index.Blobs.Upsert(TestDigests.Of(3), Blob(3));
            index.Blobs.Upsert(TestDigests.Of(1), Blob(100));
            index.Blobs.Touch(TestDigests.Of(2), T0.AddHours(1));
            index.Blobs.Delete(TestDigests.Of(2));
            index.Tags.Upsert("docker.io", Nginx, "latest", TagOf(2));
            index.Tags.Upsert("docker.io", Nginx, "stable", TagOf(3));
            Assert.True(index.HasUncheckpointedChanges);
        }

        using var reopened = CacheIndex.Open(_folder.Path, NullLogger.Instance);

        var blobs = reopened.Blobs.Entries().OrderBy(e => e.Value.Size).ToList();
        Assert.Equal([(TestDigests.Of(1), Blob(1)), (TestDigests.Of(2), Blob(2))], blobs.Select(e => (e.Key, e.Value)));
        Assert.Equal(2, reopened.Blobs.Count);
        Assert.True(reopened.Tags.TryGet("docker.io", Nginx, "latest", out var tag));
        Assert.Equal(TagOf(1), tag);
        Assert.False(reopened.Tags.TryGet("docker.io", Nginx, "stable", out _));
    }

    [Fact]
    public async Task Checkpoints_taken_after_a_recovery_are_recovered_in_turn()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            index.Blobs.Upsert(TestDigests.Of(1), Blob(1));
            await index.CheckpointAsync();
        }
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            index.Blobs.Touch(TestDigests.Of(1), T0.AddDays(1));
            index.Blobs.Upsert(TestDigests.Of(2), Blob(2));
            await index.CheckpointAsync();
        }

        using var reopened = CacheIndex.Open(_folder.Path, NullLogger.Instance);

        Assert.True(reopened.Blobs.TryGet(TestDigests.Of(1), out var touched));
        Assert.Equal(T0.AddDays(1), touched.LastAccessAt);
        Assert.True(reopened.Blobs.TryGet(TestDigests.Of(2), out _));
        Assert.Equal(2, reopened.Blobs.Count);
    }

    [Fact]
    public async Task Checkpoint_with_nothing_changed_writes_nothing()
    {
        using var index = CacheIndex.Open(_folder.Path, NullLogger.Instance);
        index.Blobs.Upsert(TestDigests.Of(1), Blob(1));
        Assert.True(index.HasUncheckpointedChanges);
        await index.CheckpointAsync();
        Assert.False(index.HasUncheckpointedChanges);
        var files = FilesUnder(_folder.Path);

        await index.CheckpointAsync();
        index.Blobs.Touch(TestDigests.Of(404), T0);
        index.Blobs.Delete(TestDigests.Of(404));
        await index.CheckpointAsync();

        Assert.False(index.HasUncheckpointedChanges);
        Assert.Equal(files, FilesUnder(_folder.Path));
    }

    [Fact]
    public async Task Touch_counts_as_a_change_to_checkpoint()
    {
        using var index = CacheIndex.Open(_folder.Path, NullLogger.Instance);
        index.Blobs.Upsert(TestDigests.Of(1), Blob(1));
        await index.CheckpointAsync();

        index.Blobs.Touch(TestDigests.Of(1), T0.AddHours(1));

        Assert.True(index.HasUncheckpointedChanges);
    }

    [Fact]
    public async Task Writes_racing_a_checkpoint_are_kept_by_the_next_one()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            const int threads = 4;
            const int perThread = 500;
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                for (var i = 0; i < perThread; i++)
                {
                    index.Blobs.Upsert(TestDigests.Of(t * perThread + i), Blob(t * perThread + i));
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            await index.CheckpointAsync();
            workers.ForEach(w => w.Join());
            await index.CheckpointAsync();
            Assert.False(index.HasUncheckpointedChanges);
        }

        using var reopened = CacheIndex.Open(_folder.Path, NullLogger.Instance);

        Assert.Equal(2_000, reopened.Blobs.Count);
        Assert.Equal(2_000, reopened.Blobs.Entries().Count());
    }

    [Fact]
    public async Task Index_larger_than_memory_survives_restart()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance, Sizes.Tiny, Sizes.Tiny))
        {
            for (var i = 0; i < 1_000; i++)
            {
                index.Blobs.Upsert(TestDigests.Of(i), Blob(i));
            }
            for (var i = 0; i < 100; i++)
            {
                index.Tags.Upsert("docker.io", Nginx, $"v{i}", TagOf(i));
            }
            index.Blobs.Delete(TestDigests.Of(10));
            await index.CheckpointAsync();
        }

        using var reopened = CacheIndex.Open(_folder.Path, NullLogger.Instance, Sizes.Tiny, Sizes.Tiny);

        Assert.Equal(999, reopened.Blobs.Count);
        Assert.True(reopened.Blobs.TryGet(TestDigests.Of(0), out var oldest));
        Assert.Equal(Blob(0), oldest);
        Assert.False(reopened.Blobs.TryGet(TestDigests.Of(10), out _));
        Assert.True(reopened.Tags.TryGet("docker.io", Nginx, "v0", out var tag));
        Assert.Equal(TagOf(0), tag);
        Assert.Equal(100, reopened.Tags.Count);
    }

    [Fact]
    public async Task An_index_whose_checkpoints_cannot_be_read_is_logged_and_opens_empty()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            index.Blobs.Upsert(TestDigests.Of(1), Blob(1));
            await index.CheckpointAsync();
        }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_folder.Path, "blobs", "checkpoints"), "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] ^= 0x5A;
            }
            File.WriteAllBytes(file, bytes);
        }
        var logger = new RecordingLogger();

        using var reopened = CacheIndex.Open(_folder.Path, logger);

        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal(0, reopened.Blobs.Count);
        Assert.Empty(reopened.Blobs.Entries());
        reopened.Blobs.Upsert(TestDigests.Of(2), Blob(2));
        Assert.True(reopened.Blobs.TryGet(TestDigests.Of(2), out _));
    }

    [Fact]
    public async Task Sha512_blobs_and_tags_live_in_their_own_tables_beside_sha256_ones_and_survive_restart()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            index.Blobs.Upsert(TestDigests.Of(1), Blob(1));
            index.Blobs.Upsert(TestDigests.Sha512Of(1), Blob(512));
            index.Blobs.Upsert(TestDigests.Sha512Of(2), Blob(513));
            index.Blobs.Touch(TestDigests.Sha512Of(1), T0.AddHours(2));
            index.Tags.Upsert("docker.io", Nginx, "latest", TagOf(1));
            index.Tags.Upsert("docker.io", Nginx, "sha512", new TagRecord(TestDigests.Sha512Of(1), MediaTypes.OciManifest, 512, T0));
            await index.CheckpointAsync();
        }

        using var reopened = CacheIndex.Open(_folder.Path, NullLogger.Instance);

        Assert.Equal(3, reopened.Blobs.Count);
        Assert.True(reopened.Blobs.TryGet(TestDigests.Sha512Of(1), out var sha512));
        Assert.Equal(Blob(512) with { LastAccessAt = T0.AddHours(2) }, sha512);
        Assert.True(reopened.Blobs.TryGet(TestDigests.Of(1), out var sha256));
        Assert.Equal(Blob(1), sha256);
        Assert.Equal(
            [TestDigests.Of(1), TestDigests.Sha512Of(1), TestDigests.Sha512Of(2)],
            reopened.Blobs.Entries().Select(e => e.Key).OrderBy(d => d.Algorithm).ThenBy(d => d.ToString(), StringComparer.Ordinal));
        Assert.True(reopened.Tags.TryGet("docker.io", Nginx, "sha512", out var tag));
        Assert.Equal(new TagRecord(TestDigests.Sha512Of(1), MediaTypes.OciManifest, 512, T0), tag);
        Assert.True(Directory.EnumerateFiles(Path.Combine(_folder.Path, "blobs-sha512"), "*", SearchOption.AllDirectories).Any());
        Assert.True(Directory.EnumerateFiles(Path.Combine(_folder.Path, "tags-sha512"), "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task A_tag_moved_between_a_sha256_and_a_sha512_manifest_names_only_the_last_one_even_after_restart()
    {
        using (var index = CacheIndex.Open(_folder.Path, NullLogger.Instance))
        {
            index.Tags.Upsert("docker.io", Nginx, "latest", TagOf(1));
            index.Tags.Upsert("docker.io", Nginx, "latest", new TagRecord(TestDigests.Sha512Of(1), MediaTypes.OciManifest, 512, T0.AddHours(1)));
            index.Tags.Upsert("docker.io", Nginx, "stable", new TagRecord(TestDigests.Sha512Of(2), MediaTypes.OciManifest, 512, T0));
            index.Tags.Upsert("docker.io", Nginx, "stable", TagOf(2) with { FetchedAt = T0.AddHours(1) });
            await index.CheckpointAsync();
        }

        using var reopened = CacheIndex.Open(_folder.Path, NullLogger.Instance);

        Assert.True(reopened.Tags.TryGet("docker.io", Nginx, "latest", out var latest));
        Assert.Equal(TestDigests.Sha512Of(1), latest.Digest);
        Assert.True(reopened.Tags.TryGet("docker.io", Nginx, "stable", out var stable));
        Assert.Equal(TestDigests.Of(2), stable.Digest);
        Assert.Equal(
            [("latest", TestDigests.Sha512Of(1)), ("stable", TestDigests.Of(2))],
            reopened.Tags.Entries().Select(e => (e.Tag, e.Record.Digest)).OrderBy(e => e.Tag, StringComparer.Ordinal));
        Assert.True(reopened.Tags.Delete("docker.io", Nginx, "latest"));
        Assert.False(reopened.Tags.TryGet("docker.io", Nginx, "latest", out _));
    }

    [Fact]
    public void Opening_a_new_index_logs_no_error()
    {
        var logger = new RecordingLogger();

        using var index = CacheIndex.Open(_folder.Path, logger);
        index.Dispose();
        using var reopened = CacheIndex.Open(_folder.Path, logger);

        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    private static List<(string Path, long Length, DateTime Written)> FilesUnder(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(path => (path, new FileInfo(path).Length, File.GetLastWriteTimeUtc(path)))
            .ToList();
}
