using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Oci;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Benchmarks;

/// <summary>
/// The FASTER index on the request path: every blob request looks its digest up and touches it, every fill ends with an
/// upsert. One thread, so Op/s is what one core does; each benchmark method runs <see cref="Batch"/> operations.
/// </summary>
[MemoryDiagnoser]
public class CacheIndexBenchmarks
{
    // The sizing's design point (TableSizing.Blobs: 100,000 blobs kept in memory).
    private const int Records = 100_000;

    // Enough operations per call that the call's own overhead vanishes, few enough that a call stays far under a millisecond.
    private const int Batch = 1024;

    // Tag lookups: a node resolves far fewer tags than it holds blobs, and the tag index keeps up to 4,096 of those it
    // read recently in memory; these all fit, so the benchmark measures the hit a pull's by-tag request makes.
    private const int Tags = 1_000;

    // sha512 blobs: their table is sized for thousands (TableSizing.Sha512Blobs), and its lookups are read beside the sha256 ones.
    private const int Sha512Records = 5_000;

    private static readonly DateTimeOffset CreatedAt = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly RepositoryName _repository = RepositoryName.Parse("dockerhub-proxy/library/nginx");
    private TempFolder _folder = null!;
    private CacheIndex _index = null!;
    private Digest[] _present = null!;
    private Digest[] _absent = null!;
    private Digest[] _sha512 = null!;
    private string[] _tagNames = null!;
    private BlobRecord _record;
    private int _next;

    [GlobalSetup]
    public void Open()
    {
        _folder = TempFolder.Create("index");
        _index = CacheIndex.Open(_folder.Path, NullLogger.Instance);
        _present = BenchmarkDigests.Make(Records, seed: 1);
        _absent = BenchmarkDigests.Make(Records, seed: 2);
        _record = new BlobRecord(4 << 20, "application/vnd.oci.image.layer.v1.tar+gzip", BlobState.Committed, CreatedAt, CreatedAt);
        _sha512 = BenchmarkDigests.Make(Sha512Records, seed: 3, DigestAlgorithm.Sha512);
        foreach (var digest in _present.Concat(_sha512))
        {
            _index.Blobs.Upsert(digest, _record);
        }
        _tagNames = [.. Enumerable.Range(0, Tags).Select(i => $"v{i}")];
        for (var i = 0; i < Tags; i++)
        {
            _index.Tags.Upsert("harbor.example", _repository, _tagNames[i], new TagRecord(_present[i], MediaTypes.OciManifest, 1234, CreatedAt));
        }
    }

    [GlobalCleanup]
    public void Close()
    {
        _index.Dispose();
        _folder.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Blob_lookup_hit()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++)
        {
            if (_index.Blobs.TryGet(NextOf(_present), out _))
            {
                found++;
            }
        }
        return found;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Sha512_blob_lookup_hit()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++)
        {
            if (_index.Blobs.TryGet(NextOf(_sha512), out _))
            {
                found++;
            }
        }
        return found;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int Blob_lookup_miss()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++)
        {
            if (_index.Blobs.TryGet(NextOf(_absent), out _))
            {
                found++;
            }
        }
        return found;
    }

    /// <summary>What every cache hit does after the lookup: an RMW that moves last access forward in place.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Blob_touch()
    {
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < Batch; i++)
        {
            _index.Blobs.Touch(NextOf(_present), now);
        }
    }

    /// <summary>An upsert of a digest already indexed (a fill that commits a blob again): read for the count, then write in place.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Blob_upsert_existing()
    {
        for (var i = 0; i < Batch; i++)
        {
            _index.Blobs.Upsert(NextOf(_present), _record);
        }
    }

    /// <summary>A tag lookup hashes registry/repository:tag to its key first, then reads.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int Tag_lookup_hit()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++)
        {
            if (_index.Tags.TryGet("harbor.example", _repository, _tagNames[_next++ % Tags], out _))
            {
                found++;
            }
        }
        return found;
    }

    private Digest NextOf(Digest[] digests) => digests[_next++ % digests.Length];
}
