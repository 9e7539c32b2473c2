using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Benchmarks;

/// <summary>
/// The two whole-cache operations of a node at its design point (100,000 blobs, TableSizing.Blobs): the restart (recover
/// the FASTER checkpoint, count it, list the blob folder and reconcile it with the index) and one eviction pass that
/// must remove 1,000 blobs (scan, sort by last access, delete records and files). Files hold a few bytes: what is timed
/// is metadata work, which does not grow with blob size. Goal for the restart: under 2 s.
/// </summary>
[MemoryDiagnoser]
public class CacheHealthBenchmarks
{
    private const int Blobs = 100_000;
    private const int Evicted = 1_000;
    private const int FileSize = 16;

    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private TempFolder _folder = null!;
    private Digest[] _digests = null!;
    private CacheLayout _layout = null!;
    private CacheIndex? _index;
    private BlobStore? _store;
    private BlobEviction? _eviction;

    [GlobalSetup]
    public void Fill()
    {
        _folder = TempFolder.Create("health");
        _layout = new CacheLayout(_folder.Path);
        _digests = BenchmarkDigests.Make(Blobs, seed: 7);
        using var index = CacheIndex.Open(_layout.IndexDirectory, NullLogger.Instance);
        for (var i = 0; i < _digests.Length; i++)
        {
            Put(index.Blobs, i);
        }
        index.CheckpointAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Remove() => _folder.Dispose();

    [Benchmark(Description = "Restart: recover the index and reconcile 100,000 blob files")]
    public long Restart()
    {
        using var index = CacheIndex.Open(_layout.IndexDirectory, NullLogger.Instance);
        var store = new BlobStore(_layout, index.Blobs, TimeProvider.System, NullLogger.Instance);
        return CacheRecovery.Run(_layout, store, index.Blobs, NullLogger.Instance).Blobs;
    }

    [IterationSetup(Target = nameof(EvictionPass))]
    public void OpenForEviction()
    {
        _index = CacheIndex.Open(_layout.IndexDirectory, NullLogger.Instance);
        // The blobs the previous pass evicted (the oldest ones) come back, as they were.
        for (var i = 0; i < Evicted; i++)
        {
            if (!File.Exists(_layout.BlobPath(_digests[i])))
            {
                Put(_index.Blobs, i);
            }
        }
        _store = new BlobStore(_layout, _index.Blobs, TimeProvider.System, NullLogger.Instance);
        CacheRecovery.Run(_layout, _store, _index.Blobs, NullLogger.Instance);
        var used = _store.UsedBytes;
        // Over the high mark, and the low mark exactly 1,000 blobs below what is used.
        _eviction = new BlobEviction(
            _store, _index.Blobs, new CacheQuota(() => used, 0.99, (double)(used - Evicted * FileSize) / used),
            Pins.Load(_folder.Path, NullLogger.Instance), new ImageBlobs(_store, _index.Tags), new PodPins(), NullLogger.Instance);
    }

    [IterationCleanup(Target = nameof(EvictionPass))]
    public void CloseAfterEviction() => _index?.Dispose();

    [Benchmark(Description = "Eviction pass: scan 100,000 blobs, evict the 1,000 least recently used")]
    public int EvictionPass() => _eviction!.RunPass().Evicted;

    // Blob i was last used at T0 + i seconds: the lowest indexes are the least recently used.
    private void Put(BlobIndex index, int i)
    {
        var digest = _digests[i];
        File.WriteAllBytes(_layout.BlobPath(digest), new byte[FileSize]);
        var at = T0.AddSeconds(i);
        index.Upsert(digest, new BlobRecord(FileSize, MediaTypes.OctetStream, BlobState.Committed, at, at));
    }
}
