using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Benchmarks;

/// <summary>
/// The tee's reader side: <see cref="FillReader.CopyAsync"/> moving a blob from the fill's file into a response pipe,
/// drained by a second task as Kestrel's socket writer would. The file sits in the page cache, so this is the copy's own
/// cost, without the network or the disk. One operation per MiB: Op/s reads as MiB/s.
/// </summary>
[MemoryDiagnoser]
public class FillReaderBenchmarks
{
    private const int MiB = 1 << 20;
    private const int BlobMiB = 16;

    // The chunk BlobFills writes per upstream read.
    private const int FillChunk = 128 * 1024;

    // Kestrel's default response buffer limit (KestrelServerLimits.MaxResponseBufferSize) is 64 KiB: the pipe pauses the
    // writer there, as a response body does.
    private static readonly PipeOptions ResponsePipe = new(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false);

    private TempFolder _folder = null!;
    private string _path = null!;
    private byte[] _content = null!;
    private BlobFill _committed = null!;
    private Digest _digest;

    [GlobalSetup]
    public void WriteBlob()
    {
        _folder = TempFolder.Create("fill");
        _path = _folder.Combine("blob");
        _content = new byte[BlobMiB * MiB];
        new Random(5).NextBytes(_content);
        File.WriteAllBytes(_path, _content);
        _digest = Digest.Compute(_content);
        _committed = NewFill();
        _committed.Advance(_content.Length);
        _committed.Finish(() => _path);
        _committed.Commit();
    }

    [GlobalCleanup]
    public void Delete() => _folder.Dispose();

    /// <summary>A reader that joins once the fill is committed: reads and flushes in FillReader's 64 KiB steps.</summary>
    [Benchmark(OperationsPerInvoke = BlobMiB)]
    public async Task<long> Copy_committed_fill()
    {
        var pipe = new Pipe(ResponsePipe);
        var drain = DrainAsync(pipe.Reader);
        await FillReader.CopyAsync(_committed, null, pipe.Writer, CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        return await drain;
    }

    /// <summary>
    /// A reader following a fill while it runs: a writer task writes the file in the fill's 128 KiB chunks and advances
    /// the fill after each, as BlobFills does (without the upstream and the hash); the reader waits on each advance.
    /// </summary>
    [Benchmark(OperationsPerInvoke = BlobMiB)]
    public async Task<long> Follow_running_fill()
    {
        var fill = NewFill();
        var pipe = new Pipe(ResponsePipe);
        var drain = DrainAsync(pipe.Reader);
        var writer = Task.Run(() =>
        {
            using var file = File.OpenHandle(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            for (var offset = 0; offset < _content.Length; offset += FillChunk)
            {
                RandomAccess.Write(file, _content.AsSpan(offset, FillChunk), offset);
                fill.Advance(offset + FillChunk);
            }
            fill.Finish(() => _path);
            fill.Commit();
        });
        await FillReader.CopyAsync(fill, null, pipe.Writer, CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        await writer;
        return await drain;
    }

    private BlobFill NewFill() => new(_digest, _content.Length, "application/octet-stream", _path);

    private static async Task<long> DrainAsync(PipeReader reader)
    {
        long total = 0;
        while (true)
        {
            var result = await reader.ReadAsync();
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync();
                return total;
            }
        }
    }
}
