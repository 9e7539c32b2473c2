using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using NodeCache.Fill;
using NodeCache.Testing;

namespace NodeCache.Benchmarks;

/// <summary>
/// The tee's writer side: what a fill does with each chunk the upstream sends. The chunk is copied into a buffer (as a
/// socket read would), written to the fill's file with pwrite (it lands in the page cache) and hashed: by
/// <see cref="FillHasher"/> on another thread, as fills do, against the hash in line. Without the network and the disk,
/// so this is the fill's own cost. One operation per MiB: Op/s reads as MiB/s. The chunk size is a parameter: 128 KiB
/// is the size BlobFills asks the socket for (its CopyBufferSize).
/// </summary>
[MemoryDiagnoser]
public class FillWriterBenchmarks
{
    private const int MiB = 1 << 20;
    private const int BlobMiB = 16;

    private byte[] _chunk = null!;
    private TempFolder _folder = null!;
    private byte[] _content = null!;
    private Microsoft.Win32.SafeHandles.SafeFileHandle _file = null!;

    [Params(16, 128, 1024)]
    public int ChunkKiB { get; set; }

    private int FillChunk => ChunkKiB * 1024;

    [GlobalSetup]
    public void OpenFile()
    {
        _chunk = new byte[FillChunk];
        _folder = TempFolder.Create("fill-writer");
        _content = new byte[BlobMiB * MiB];
        new Random(6).NextBytes(_content);
        _file = File.OpenHandle(_folder.Combine("blob"), FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
    }

    [GlobalCleanup]
    public void Delete()
    {
        _file.Dispose();
        _folder.Dispose();
    }

    /// <summary>As fills run: the hash follows on another thread, reading the same pooled segments the file was written from.</summary>
    [Benchmark(OperationsPerInvoke = BlobMiB)]
    public async Task<NodeCache.Oci.Digest> Hash_on_another_thread()
    {
        var hasher = new FillHasher(NodeCache.Oci.DigestAlgorithm.Sha256, FillChunk);
        await using var _ = hasher.ConfigureAwait(false);
        for (var offset = 0; offset < _content.Length; offset += FillChunk)
        {
            var buffer = hasher.GetMemory(FillChunk);
            _content.AsSpan(offset, FillChunk).CopyTo(buffer.Span);
            RandomAccess.Write(_file, buffer.Span[..FillChunk], offset);
            await hasher.AppendAsync(FillChunk, CancellationToken.None).ConfigureAwait(false);
        }
        return await hasher.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>The same chunks hashed in line, one buffer reused: what the fill did before it hashed on another thread.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BlobMiB)]
    public byte[] Hash_in_line()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var offset = 0; offset < _content.Length; offset += FillChunk)
        {
            _content.AsSpan(offset, FillChunk).CopyTo(_chunk);
            RandomAccess.Write(_file, _chunk, offset);
            hash.AppendData(_chunk);
        }
        return hash.GetHashAndReset();
    }
}
