using Grpc.Core;
using NodeCache.Control.V1;

namespace NodeCache.Agent.Control;

/// <summary>
/// The archive of an Import call as a stream read once, in order: the data of the chunks after its <see cref="ImportStart"/>.
/// An upload that ends short of the size the client announced ends the stream with an error, never as a shorter archive;
/// a client that goes away fails the read with the call's cancellation.
/// </summary>
internal sealed class ArchiveUpload(IAsyncStreamReader<ImportChunk> chunks, long announcedSize, CancellationToken callCancelled) : Stream
{
    private ReadOnlyMemory<byte> _current;
    private bool _ended;
    private bool _archiveRead;

    public long Received { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Received - _current.Length;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (_ended || buffer.IsEmpty)
            {
                return 0;
            }
            if (!await NextAsync(cancellationToken).ConfigureAwait(false))
            {
                _ended = true;
                if (announcedSize > 0 && Received != announcedSize && !_archiveRead)
                {
                    throw new EndOfStreamException($"the upload ended after {Received} of the {announcedSize} bytes announced");
                }
                return 0;
            }
            if (chunks.Current.PartCase != ImportChunk.PartOneofCase.Data)
            {
                throw new InvalidDataException("a second ImportStart in the middle of the archive");
            }
            _current = chunks.Current.Data.Memory;
            Received += _current.Length;
            if (announcedSize > 0 && Received > announcedSize && !_archiveRead)
            {
                throw new InvalidDataException($"the upload is longer than the {announcedSize} bytes announced");
            }
        }
        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        return count;
    }

    // A reset stream is the client going away, whether or not the call's token has fired yet: a cancellation, not a
    // failure of the cache's disk, which is what an IOException means to the import's caller.
    private async Task<bool> NextAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(callCancelled, cancellationToken);
        try
        {
            return await chunks.MoveNext(linked.Token).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new OperationCanceledException($"the client went away after {Received} bytes: {ex.Message}", ex, linked.Token);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Reads what the client still sends after the archive's end (a tar's closing padding), so its upload completes. The
    /// archive is whole by then (its tar said where it ends), so the announced size no longer matters.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _archiveRead = true;
        var buffer = new byte[1 << 16];
        while (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    // The import reads asynchronously only; a synchronous read would block a thread on the network.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
