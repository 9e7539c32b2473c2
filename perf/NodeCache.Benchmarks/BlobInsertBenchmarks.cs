using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Oci;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Benchmarks;

/// <summary>
/// Inserts of digests the index has never seen, into an index opened empty for each iteration: inserts grow the log,
/// so a shared index would drift out of memory over a long run and measure the disk instead. With an iteration setup,
/// BenchmarkDotNet calls the method once per iteration: the 100,000 inserts make that iteration long enough to time.
/// </summary>
[MemoryDiagnoser]
public class BlobInsertBenchmarks
{
    // The sizing's design point; 100,000 records (31 MiB) stay inside the 64 MiB of log kept in memory.
    private const int Inserts = 100_000;

    private static readonly DateTimeOffset CreatedAt = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly BlobRecord _record = new(4 << 20, "application/vnd.oci.image.layer.v1.tar+gzip", BlobState.Committed, CreatedAt, CreatedAt);
    private Digest[] _digests = null!;
    private TempFolder? _folder;
    private CacheIndex? _index;

    [GlobalSetup]
    public void MakeDigests() => _digests = BenchmarkDigests.Make(Inserts, seed: 3);

    [IterationSetup]
    public void OpenEmpty()
    {
        _folder = TempFolder.Create("insert");
        _index = CacheIndex.Open(_folder.Path, NullLogger.Instance);
    }

    [IterationCleanup]
    public void Close()
    {
        _index?.Dispose();
        _folder?.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Inserts)]
    public void Blob_insert_new()
    {
        var blobs = _index!.Blobs;
        foreach (var digest in _digests)
        {
            blobs.Upsert(digest, _record);
        }
    }
}
