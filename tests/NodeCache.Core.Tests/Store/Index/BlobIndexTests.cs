using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Store.Index;

public sealed class BlobIndexTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _folder = TempFolder.Create("blob-index");
    private readonly CacheIndex _index;

    public BlobIndexTests() => _index = CacheIndex.Open(_folder.Path, NullLogger.Instance);

    private BlobIndex Blobs => _index.Blobs;

    public void Dispose()
    {
        _index.Dispose();
        _folder.Dispose();
    }

    public static TheoryData<string> MediaTypesToStore =>
    [
        MediaTypes.OciManifest,
        MediaTypes.DockerManifestList,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        MediaTypes.OctetStream,
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        "application/VND.OCI.IMAGE.MANIFEST.V1+JSON",
        "application/json; charset=utf-8",
        "",
        "application/vnd.example." + new string('x', 200) + "+json",
        "application/" + new string('y', StoredMediaType.MaxLength - "application/".Length),
        "application/vnd.exämple+json",
    ];

    [Theory]
    [MemberData(nameof(MediaTypesToStore))]
    public void Blob_record_round_trips(string mediaType)
    {
        var digest = TestDigests.Of("layer");
        var record = new BlobRecord(12_345_678_901, mediaType, BlobState.Committed, T0, T0.AddMinutes(5));

        Blobs.Upsert(digest, record);

        Assert.True(Blobs.TryGet(digest, out var stored));
        Assert.Equal(record, stored);
    }

    [Fact]
    public void Media_type_longer_than_255_bytes_is_refused_not_truncated()
    {
        var digest = TestDigests.Of("layer");
        var mediaType = "application/" + new string('z', StoredMediaType.MaxLength);

        Assert.Throws<ArgumentException>(() => Blobs.Upsert(digest, new BlobRecord(1, mediaType, BlobState.Committed, T0, T0)));
        Assert.False(Blobs.TryGet(digest, out _));
    }

    [Fact]
    public void Times_come_back_as_the_same_instant_in_UTC()
    {
        var digest = TestDigests.Of("layer");
        var created = new DateTimeOffset(2025, 3, 1, 14, 0, 0, TimeSpan.FromHours(2));

        Blobs.Upsert(digest, new BlobRecord(1, MediaTypes.OctetStream, BlobState.Committed, created, created));

        Assert.True(Blobs.TryGet(digest, out var stored));
        Assert.Equal(created.UtcDateTime, stored.CreatedAt.UtcDateTime);
        Assert.Equal(TimeSpan.Zero, stored.CreatedAt.Offset);
    }

    [Fact]
    public void Unknown_digest_is_not_found()
    {
        Assert.False(Blobs.TryGet(TestDigests.Of("nothing"), out _));
    }

    [Fact]
    public void Upsert_replaces_the_record()
    {
        var digest = TestDigests.Of("layer");
        Blobs.Upsert(digest, new BlobRecord(1, MediaTypes.OctetStream, BlobState.Committed, T0, T0));
        var second = new BlobRecord(2, MediaTypes.OciManifest, BlobState.Committed, T0.AddDays(1), T0.AddDays(1));

        Blobs.Upsert(digest, second);

        Assert.True(Blobs.TryGet(digest, out var stored));
        Assert.Equal(second, stored);
        Assert.Equal(1, Blobs.Count);
    }

    [Fact]
    public void Touch_changes_only_last_access()
    {
        var digest = TestDigests.Of("layer");
        var record = new BlobRecord(42, MediaTypes.OciIndex, BlobState.Committed, T0, T0);
        Blobs.Upsert(digest, record);

        Blobs.Touch(digest, T0.AddHours(1));

        Assert.True(Blobs.TryGet(digest, out var stored));
        Assert.Equal(record with { LastAccessAt = T0.AddHours(1) }, stored);
    }

    [Fact]
    public void Touch_never_moves_last_access_back()
    {
        var digest = TestDigests.Of("layer");
        Blobs.Upsert(digest, new BlobRecord(42, MediaTypes.OciIndex, BlobState.Committed, T0, T0.AddHours(2)));

        Blobs.Touch(digest, T0.AddHours(1));

        Assert.True(Blobs.TryGet(digest, out var stored));
        Assert.Equal(T0.AddHours(2), stored.LastAccessAt);
    }

    [Fact]
    public void Touch_of_an_unknown_digest_creates_nothing()
    {
        var digest = TestDigests.Of("nothing");

        Blobs.Touch(digest, T0);

        Assert.False(Blobs.TryGet(digest, out _));
        Assert.Equal(0, Blobs.Count);
        Assert.False(_index.HasUncheckpointedChanges);
    }

    [Fact]
    public void Delete_removes_the_record_and_says_whether_there_was_one()
    {
        var digest = TestDigests.Of("layer");
        Blobs.Upsert(digest, new BlobRecord(1, MediaTypes.OctetStream, BlobState.Committed, T0, T0));

        Assert.True(Blobs.Delete(digest));
        Assert.False(Blobs.TryGet(digest, out _));
        Assert.False(Blobs.Delete(digest));
        Assert.False(Blobs.Delete(TestDigests.Of("never there")));
    }

    [Fact]
    public void Count_follows_upserts_and_deletes()
    {
        for (var i = 0; i < 10; i++)
        {
            Blobs.Upsert(TestDigests.Of(i), new BlobRecord(i, MediaTypes.OctetStream, BlobState.Committed, T0, T0));
        }
        Blobs.Upsert(TestDigests.Of(3), new BlobRecord(33, MediaTypes.OctetStream, BlobState.Committed, T0, T0));
        Blobs.Delete(TestDigests.Of(4));
        Blobs.Delete(TestDigests.Of(4));
        Blobs.Delete(TestDigests.Of(99));

        Assert.Equal(9, Blobs.Count);
    }

    [Fact]
    public void Entries_yield_the_latest_record_of_each_live_digest()
    {
        for (var i = 0; i < 20; i++)
        {
            Blobs.Upsert(TestDigests.Of(i), new BlobRecord(i, MediaTypes.OctetStream, BlobState.Committed, T0, T0));
        }
        Blobs.Upsert(TestDigests.Of(5), new BlobRecord(500, MediaTypes.OciManifest, BlobState.Committed, T0, T0));
        Blobs.Touch(TestDigests.Of(6), T0.AddHours(6));
        Blobs.Delete(TestDigests.Of(7));
        Blobs.Delete(TestDigests.Of(8));
        Blobs.Upsert(TestDigests.Of(8), new BlobRecord(800, MediaTypes.OctetStream, BlobState.Committed, T0, T0));

        var entries = Blobs.Entries().ToList();

        Assert.Equal(19, entries.Count);
        Assert.Equal(entries.Count, entries.Select(e => e.Key).Distinct().Count());
        var byDigest = entries.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(500, byDigest[TestDigests.Of(5)].Size);
        Assert.Equal(MediaTypes.OciManifest, byDigest[TestDigests.Of(5)].MediaType);
        Assert.Equal(T0.AddHours(6), byDigest[TestDigests.Of(6)].LastAccessAt);
        Assert.False(byDigest.ContainsKey(TestDigests.Of(7)));
        Assert.Equal(800, byDigest[TestDigests.Of(8)].Size);
        Assert.Equal(Blobs.Count, entries.Count);
    }

    [Fact]
    public void Entries_can_be_deleted_while_the_scan_runs()
    {
        for (var i = 0; i < 50; i++)
        {
            Blobs.Upsert(TestDigests.Of(i), new BlobRecord(i, MediaTypes.OctetStream, BlobState.Committed, T0, T0));
        }

        var deleted = 0;
        foreach (var (digest, record) in Blobs.Entries())
        {
            if (record.Size % 2 == 0 && Blobs.Delete(digest))
            {
                deleted++;
            }
        }

        Assert.Equal(25, deleted);
        Assert.Equal(25, Blobs.Count);
        Assert.All(Blobs.Entries(), e => Assert.Equal(1, e.Value.Size % 2));
    }

    [Fact]
    public void Records_pushed_out_to_disk_are_read_touched_listed_and_deleted()
    {
        using var folder = TempFolder.Create("blob-index");
        using var index = CacheIndex.Open(folder.Path, NullLogger.Instance, Sizes.Tiny, Sizes.Tiny);
        const int n = 1_000;
        for (var i = 0; i < n; i++)
        {
            index.Blobs.Upsert(TestDigests.Of(i), new BlobRecord(i, MediaTypes.OctetStream, BlobState.Committed, T0, T0));
        }

        // The first records left a 32 KiB log long ago: each of these operations reads from disk.
        Assert.True(index.Blobs.TryGet(TestDigests.Of(1), out var first));
        Assert.Equal(1, first.Size);
        index.Blobs.Touch(TestDigests.Of(2), T0.AddHours(2));
        Assert.True(index.Blobs.Delete(TestDigests.Of(3)));
        Assert.False(index.Blobs.Delete(TestDigests.Of(3)));
        index.Blobs.Upsert(TestDigests.Of(4), new BlobRecord(4_000, MediaTypes.OctetStream, BlobState.Committed, T0, T0));

        Assert.True(index.Blobs.TryGet(TestDigests.Of(2), out var touched));
        Assert.Equal(T0.AddHours(2), touched.LastAccessAt);
        var entries = index.Blobs.Entries().ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(n - 1, entries.Count);
        Assert.Equal(n - 1, index.Blobs.Count);
        Assert.Equal(T0.AddHours(2), entries[TestDigests.Of(2)].LastAccessAt);
        Assert.Equal(4_000, entries[TestDigests.Of(4)].Size);
        Assert.False(entries.ContainsKey(TestDigests.Of(3)));
    }

    [Fact]
    public void Many_threads_upsert_read_touch_and_delete_at_once()
    {
        const int threads = 8;
        const int perThread = 300;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perThread; i++)
            {
                var n = t * perThread + i;
                var digest = TestDigests.Of(n);
                Blobs.Upsert(digest, new BlobRecord(n, MediaTypes.OctetStream, BlobState.Committed, T0, T0));
                if (!Blobs.TryGet(digest, out var read) || read.Size != n)
                {
                    failures.Enqueue($"blob {n} not read back");
                }
                Blobs.Touch(digest, T0.AddSeconds(n));
                Blobs.TryGet(TestDigests.Of(Random.Shared.Next(threads * perThread)), out _);
                if (i % 3 == 0 && !Blobs.Delete(digest))
                {
                    failures.Enqueue($"blob {n} not deleted");
                }
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Empty(failures);
        var survivors = threads * (perThread - perThread / 3);
        Assert.Equal(survivors, Blobs.Count);
        var entries = Blobs.Entries().ToList();
        Assert.Equal(survivors, entries.Count);
        Assert.All(entries, e => Assert.Equal(T0.AddSeconds(e.Value.Size), e.Value.LastAccessAt));
    }

    [Fact]
    public void A_blob_record_stays_small_enough_for_100_000_to_fit_in_memory()
    {
        // TableSizing.Blobs budgets 64 MiB of log memory on this size (plus 40 bytes of header and key a record).
        Assert.Equal(288, System.Runtime.CompilerServices.Unsafe.SizeOf<BlobValue>());
        Assert.True(100_000L * (288 + 40) < TableSizing.Blobs.MemoryBytes / 2);
    }
}
