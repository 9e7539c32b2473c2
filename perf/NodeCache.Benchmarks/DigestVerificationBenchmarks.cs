using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;

namespace NodeCache.Benchmarks;

/// <summary>
/// SHA-256 throughput: every byte of a fill is hashed before the blob is cached. Each benchmark counts one operation per
/// MiB hashed, so Op/s reads as MiB/s.
/// </summary>
[MemoryDiagnoser]
public class DigestVerificationBenchmarks
{
    private const int MiB = 1 << 20;

    // The chunk BlobFills hashes per upstream read (its CopyBufferSize).
    private const int FillChunk = 128 * 1024;

    private readonly byte[] _hash = new byte[32];
    private byte[] _content = null!;

    [GlobalSetup]
    public void Fill()
    {
        _content = new byte[16 * MiB];
        new Random(4).NextBytes(_content);
    }

    [Benchmark(OperationsPerInvoke = 1)]
    public byte[] Incremental_1MiB_in_fill_chunks() => HashInChunks(1 * MiB);

    [Benchmark(OperationsPerInvoke = 16)]
    public byte[] Incremental_16MiB_in_fill_chunks() => HashInChunks(16 * MiB);

    [Benchmark(OperationsPerInvoke = 1)]
    public int OneShot_1MiB() => SHA256.HashData(_content.AsSpan(0, 1 * MiB), _hash);

    [Benchmark(OperationsPerInvoke = 16)]
    public int OneShot_16MiB() => SHA256.HashData(_content.AsSpan(0, 16 * MiB), _hash);

    private byte[] HashInChunks(int length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var offset = 0; offset < length; offset += FillChunk)
        {
            hash.AppendData(_content, offset, Math.Min(FillChunk, length - offset));
        }
        hash.GetHashAndReset(_hash);
        return _hash;
    }
}
