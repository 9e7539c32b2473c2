using System.Buffers;
using System.IO.Pipelines;
using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Fill;

public sealed class FillReaderTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TempFolder _folder = TempFolder.Create("fill-reader");
    private readonly byte[] _content = RandomBytes(300_000);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Reader_follows_the_growing_file_but_holds_the_last_byte_until_commit()
    {
        var (fill, file) = StartFill(size: _content.Length);
        var pipe = new Pipe();
        var copy = FillReader.CopyAsync(fill, null, pipe.Writer, CancellationToken.None);

        Write(fill, file, 0, 100_000);
        Assert.Equal(_content[..99_999], await ReadExactlyAsync(pipe.Reader, 99_999));

        Write(fill, file, 100_000, _content.Length - 100_000);
        Assert.Equal(_content[99_999..^1], await ReadExactlyAsync(pipe.Reader, _content.Length - 100_000));
        await Task.Delay(50);
        Assert.False(copy.IsCompleted, "the response ended before the digest was verified");

        file.Dispose();
        fill.Finish(() => fill.TempPath);
        fill.Commit();
        await copy.WaitAsync(Patience);
        Assert.Equal(_content[^1..], await ReadExactlyAsync(pipe.Reader, 1));
    }

    [Fact]
    public async Task The_last_byte_goes_out_once_the_fill_is_complete_without_waiting_for_its_commit_and_a_later_failure_does_not_break_it()
    {
        var (fill, file, pipe, copy) = await ReadToTheLastByteAsync();

        file.Dispose();
        fill.Finish(() => fill.TempPath);

        await copy.WaitAsync(Patience);
        Assert.Equal(_content[^1..], await ReadExactlyAsync(pipe.Reader, 1));
        Assert.Equal(FillState.Running, fill.State);
        // The flush to disk failing now costs the cache its copy, not the client its blob: a new reader still gets every byte.
        fill.Fail("flush failed");
        var late = new Pipe();
        var lateCopy = FillReader.CopyAsync(fill, null, late.Writer, CancellationToken.None);
        Assert.Equal(_content, await ReadExactlyAsync(late.Reader, _content.Length));
        await lateCopy.WaitAsync(Patience);
    }

    [Fact]
    public async Task Reader_fails_when_the_fill_fails_even_with_every_byte_written()
    {
        var (fill, file, _, copy) = await ReadToTheLastByteAsync();

        fill.Fail("digest mismatch");

        var failure = await Assert.ThrowsAsync<FillFailedException>(() => copy.WaitAsync(Patience));
        Assert.Contains("digest mismatch", failure.Message, StringComparison.Ordinal);
        file.Dispose();
    }

    [Fact]
    public async Task A_range_in_the_middle_ends_only_after_commit()
    {
        var (fill, file) = StartFill(size: _content.Length);
        var pipe = new Pipe();
        var range = new ByteRange(1000, 1999);
        var copy = FillReader.CopyAsync(fill, range, pipe.Writer, CancellationToken.None);

        Write(fill, file, 0, _content.Length);
        Assert.Equal(_content[1000..1999], await ReadExactlyAsync(pipe.Reader, 999));
        await Task.Delay(50);
        Assert.False(copy.IsCompleted);

        file.Dispose();
        fill.Finish(() => fill.TempPath);
        fill.Commit();
        await copy.WaitAsync(Patience);
        Assert.Equal(_content[1999..2000], await ReadExactlyAsync(pipe.Reader, 1));
    }

    [Fact]
    public async Task A_reader_that_joins_after_commit_reads_the_cached_file()
    {
        var (fill, file) = StartFill(size: _content.Length);
        Write(fill, file, 0, _content.Length);
        file.Dispose();
        var cachedPath = _folder.Combine("cached");
        fill.Finish(() =>
        {
            File.Move(fill.TempPath, cachedPath);
            return cachedPath;
        });
        fill.Commit();

        var pipe = new Pipe();
        var copy = FillReader.CopyAsync(fill, null, pipe.Writer, CancellationToken.None);

        Assert.Equal(_content, await ReadExactlyAsync(pipe.Reader, _content.Length));
        await copy.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_fill_of_unknown_size_is_read_to_its_committed_end()
    {
        var (fill, file) = StartFill(size: null);
        var pipe = new Pipe();
        var copy = FillReader.CopyAsync(fill, null, pipe.Writer, CancellationToken.None);

        Write(fill, file, 0, _content.Length);
        Assert.Equal(_content[..^1], await ReadExactlyAsync(pipe.Reader, _content.Length - 1));
        file.Dispose();
        fill.Finish(() => fill.TempPath);
        fill.Commit();
        await copy.WaitAsync(Patience);
        await pipe.Writer.CompleteAsync();

        Assert.Equal(_content[^1..], await ReadExactlyAsync(pipe.Reader, 1));
        var rest = await pipe.Reader.ReadAsync();
        Assert.True(rest.IsCompleted && rest.Buffer.IsEmpty);
    }

    [Fact]
    public async Task A_cancelled_reader_leaves_the_fill_running()
    {
        var (fill, file) = StartFill(size: _content.Length);
        using var cancel = new CancellationTokenSource();
        var copy = FillReader.CopyAsync(fill, null, new Pipe().Writer, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => copy.WaitAsync(Patience));
        Assert.Equal(FillState.Running, fill.State);
        file.Dispose();
    }

    // A fill with every byte written, and a reader that has sent all of them but the last.
    private async Task<(BlobFill Fill, FileStream File, Pipe Pipe, Task Copy)> ReadToTheLastByteAsync()
    {
        var (fill, file) = StartFill(size: _content.Length);
        var pipe = new Pipe();
        var copy = FillReader.CopyAsync(fill, null, pipe.Writer, CancellationToken.None);
        Write(fill, file, 0, _content.Length);
        Assert.Equal(_content[..^1], await ReadExactlyAsync(pipe.Reader, _content.Length - 1));
        return (fill, file, pipe, copy);
    }

    private (BlobFill Fill, FileStream File) StartFill(long? size)
    {
        var path = _folder.Combine("temp");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return (new BlobFill(Digest.Compute(_content), size, MediaTypes.OctetStream, path), file);
    }

    private void Write(BlobFill fill, FileStream file, int offset, int count)
    {
        file.Write(_content, offset, count);
        file.Flush();
        fill.Advance(offset + count);
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count)
    {
        var result = new byte[count];
        var filled = 0;
        using var timeout = new CancellationTokenSource(Patience);
        while (filled < count)
        {
            var read = await reader.ReadAsync(timeout.Token);
            var take = (int)Math.Min(read.Buffer.Length, count - filled);
            read.Buffer.Slice(0, take).CopyTo(result.AsSpan(filled));
            filled += take;
            reader.AdvanceTo(read.Buffer.GetPosition(take));
        }
        return result;
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(42).NextBytes(bytes);
        return bytes;
    }
}
