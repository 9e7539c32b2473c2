using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using NodeCache.Control.V1;

namespace NodeCache.Agent.Control;

/// <summary>The archive an Export call writes, sent as <see cref="ExportChunk"/> data messages of a fixed size as it is written.</summary>
internal sealed class ArchiveDownload(IServerStreamWriter<ExportChunk> chunks, CancellationToken callCancelled) : Stream
{
    // Well under gRPC's default 4 MiB message limit, large enough that the per-message cost is small next to the copy.
    private const int ChunkSize = 256 * 1024;

    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
    private int _filled;

    /// <summary>Bytes written to the stream so far, sent or not.</summary>
    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Written;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var chunk = _buffer ?? throw new ObjectDisposedException(nameof(ArchiveDownload));
        while (!buffer.IsEmpty)
        {
            var count = Math.Min(buffer.Length, ChunkSize - _filled);
            buffer[..count].CopyTo(chunk.AsMemory(_filled));
            _filled += count;
            Written += count;
            buffer = buffer[count..];
            if (_filled == ChunkSize)
            {
                await SendAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends what is buffered.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => _filled > 0 ? SendAsync(cancellationToken) : Task.CompletedTask;

    // The export writes asynchronously only; a synchronous write would block a thread on the network.
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
        base.Dispose(disposing);
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(callCancelled, cancellationToken);
        var data = ByteString.CopyFrom(_buffer!, 0, _filled);
        _filled = 0;
        await chunks.WriteAsync(new ExportChunk { Data = data }, linked.Token).ConfigureAwait(false);
    }
}
