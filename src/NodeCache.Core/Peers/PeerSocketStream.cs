using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace NodeCache.Peers;

/// <summary>
/// A connection to another agent, as the HTTP handler reads and writes it: each read that brings bytes says the member was
/// heard from, and each write tells <see cref="PeerReach"/> which connection the writing request went over, and when.
/// </summary>
/// <param name="heard">When the member last sent bytes, on this connection or another: each read that brings some says now.</param>
/// <param name="openedFor">The request the connection was opened for, which writes outside any request's flow (a TLS handshake) count for.</param>
internal sealed class PeerSocketStream(Socket socket, PeerLastHeard heard, PeerReach? openedFor) : Stream
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Received(_stream.Read(buffer));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Every read of a peer's body comes through here: pooled, so a read that waits allocates nothing.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Received(await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    // Told once the kernel has the bytes, so that the wait for their acknowledgement is never counted from before they were sent.
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _stream.Write(buffer);
        PeerReach.Wrote(socket, heard, openedFor);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        PeerReach.Wrote(socket, heard, openedFor);
    }

    public override void Flush() => _stream.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _stream.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream.Dispose();
        }
        base.Dispose(disposing);
    }

    private int Received(int read)
    {
        if (read > 0)
        {
            heard.Heard();
        }
        return read;
    }
}
