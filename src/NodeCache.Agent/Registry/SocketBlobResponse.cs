using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store.Blobs;

namespace NodeCache.Agent.Registry;

/// <summary>
/// A blob response written as HTTP/1.1 on a connection's socket, without Kestrel: the head, then the file by sendfile(2),
/// so a warm blob goes from the page cache to the socket without passing through the process. A cached blob (whole, 200,
/// or one range of it, 206) goes in one operation; a blob still being filled goes as its bytes arrive, from the fill's
/// file. Errors and uncached bytes, which are not in a file, go through the connection's output pipe.
/// </summary>
/// <param name="output">The connection's output pipe; idle whenever the socket is written directly.</param>
/// <param name="close">The client asked for Connection: close.</param>
internal sealed class SocketBlobResponse(Socket socket, PipeWriter output, bool close, IPAddress? client, CancellationToken aborted) : IBlobResponse
{
    /// <summary>The response broke part way or was aborted: the connection cannot carry another.</summary>
    public bool Broken { get; private set; }

    /// <summary>The fast path takes GETs only.</summary>
    public bool IsHead => false;

    public IPAddress? Client => client;

    public CancellationToken Aborted => aborted;

    public async Task<long> SendCachedAsync(CachedBlob blob) =>
        Delivered(await SendFileAsync(socket, blob, range: null, close, aborted).ConfigureAwait(false), blob.Size);

    public async Task<long> SendFillAsync(BlobFill fill, long size, bool holdPeerBytes) =>
        Delivered(await SendGrowingFileAsync(socket, fill, size, close, holdPeerBytes, aborted).ConfigureAwait(false), size);

    public async Task<long> SendPassThroughAsync(PassThroughBlob blob)
    {
        if (!await WriteAsync(Head(blob.Digest, blob.Size, blob.MediaType, close)).ConfigureAwait(false))
        {
            return 0;
        }
        try
        {
            await blob.CopyToAsync(output, aborted).ConfigureAwait(false);
            return Delivered(!(await output.FlushAsync(aborted).ConfigureAwait(false)).IsCompleted, blob.Size);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Delivered(false, 0);
        }
    }

    public async Task SendHeadAsync(Digest digest, string mediaType, long size) =>
        await WriteAsync(Head(digest, size, mediaType, close)).ConfigureAwait(false);

    public async Task SendErrorAsync(MirrorError error)
    {
        var answer = OciErrorResponse.Of(error);
        var head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {answer.Status} {answer.ReasonPhrase ?? ReasonPhrases.GetReasonPhrase(answer.Status)}\r\n" +
            $"Content-Type: {answer.ContentType}\r\nContent-Length: {answer.Body.Length}\r\n" +
            $"{RegistryHeaders.ApiVersion}: registry/2.0\r\nDate: {DateTimeOffset.UtcNow:r}\r\n{(close ? "Connection: close\r\n" : "")}\r\n");
        await WriteAsync((byte[])[.. Encoding.ASCII.GetBytes(head), .. answer.Body]).ConfigureAwait(false);
    }

    public void Abort()
    {
        Broken = true;
        ShutDown(socket);
    }

    /// <summary>Sends a cached blob, or one <paramref name="range"/> of it, in one sendfile operation.</summary>
    /// <param name="range">One range of the blob, answered 206; null for the whole blob, answered 200.</param>
    /// <returns>False when the connection broke part way: the caller must close it, as the response cannot end honestly.</returns>
    public static async Task<bool> SendFileAsync(Socket socket, CachedBlob blob, ByteRange? range, bool close, CancellationToken cancellationToken)
    {
        var head = Head(blob.Digest, blob.Size, blob.MediaType, close, range);
        // A count of 0 sends the file to its end.
        var (offset, count) = range is { } part ? (part.First, (int)part.Length) : (0L, 0);
        try
        {
            // Socket.SendFileAsync(path) opens the file itself and, on Linux, leaves the handle to the finalizer: a warm load
            // allocates so little that no GC runs, and the load test saw thousands of blob descriptors pile up (evicted files
            // among them, holding their disk space). The file is opened (asynchronous, as SendPacketsElement requires) and closed here.
            var file = new FileStream(blob.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                SetCork(socket, true);
                try
                {
                    return await SendPacketsAsync(socket, [new SendPacketsElement(head), new SendPacketsElement(file, offset, count, endOfPacket: true)], cancellationToken).ConfigureAwait(false)
                        == SocketError.Success;
                }
                finally
                {
                    SetCork(socket, false);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sends a blob of known <paramref name="size"/> that is still being filled, each time from where the last send ended to
    /// where the fill has got, the last byte (and with <paramref name="holdPeerBytes"/> any byte another agent sent) once the
    /// fill is complete (<see cref="BlobFill.SendableAsync"/>).
    /// </summary>
    /// <returns>False when the connection broke part way: the caller must close it, as the response cannot end honestly.</returns>
    /// <exception cref="FillFailedException">The fill failed: the caller must close the connection.</exception>
    public static async Task<bool> SendGrowingFileAsync(Socket socket, BlobFill fill, long size, bool close, bool holdPeerBytes, CancellationToken cancellationToken)
    {
        var head = Head(fill.Digest, size, fill.MediaType, close);
        try
        {
            var file = new FileStream(fill.OpenRead(FileOptions.Asynchronous), FileAccess.Read, bufferSize: 0, isAsync: true);
            await using (file.ConfigureAwait(false))
            {
                long position = 0;
                while (position < size)
                {
                    var sendable = await fill.SendableAsync(position, size, cancellationToken, holdPeerBytes).ConfigureAwait(false);
                    if (sendable == position)
                    {
                        throw new FillFailedException(fill.Digest, $"the complete file ended at byte {position} of {size}");
                    }
                    var bytes = new SendPacketsElement(file, position, checked((int)Math.Min(sendable - position, int.MaxValue)), endOfPacket: true);
                    SendPacketsElement[] elements = position == 0 ? [new SendPacketsElement(head), bytes] : [bytes];
                    if (await SendPacketsAsync(socket, elements, cancellationToken).ConfigureAwait(false) != SocketError.Success)
                    {
                        return false;
                    }
                    position += bytes.Count;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or UnauthorizedAccessException or ObjectDisposedException or IOException and not FillFailedException)
        {
            return false;
        }
        return true;
    }

    private long Delivered(bool whole, long length)
    {
        Broken |= !whole;
        return whole ? length : 0;
    }

    private async Task<bool> WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        bool written;
        try
        {
            var flush = await output.WriteAsync(bytes, aborted).ConfigureAwait(false);
            written = !flush.IsCompleted && !flush.IsCanceled;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            written = false;
        }
        Broken |= !written;
        return written;
    }

    private static byte[] Head(Digest digest, long size, string mediaType, bool close, ByteRange? range = null)
    {
        var status = range is { } part
            ? string.Create(CultureInfo.InvariantCulture, $"206 Partial Content\r\nContent-Range: {part.ToContentRange(size)}\r\nContent-Length: {part.Length}")
            : string.Create(CultureInfo.InvariantCulture, $"200 OK\r\nContent-Length: {size}");
        return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status}\r\nContent-Type: {mediaType}\r\n" +
            $"{RegistryHeaders.ContentDigest}: {digest}\r\nETag: \"{digest}\"\r\nAccept-Ranges: bytes\r\n" +
            $"{RegistryHeaders.ApiVersion}: registry/2.0\r\nDate: {DateTimeOffset.UtcNow:r}\r\n{(close ? "Connection: close\r\n" : "")}\r\n"));
    }

    // The elements in one operation. It cannot be cancelled itself, so a connection that is gone is shut down to end it;
    // the file stays open until it has ended.
    private static async Task<SocketError> SendPacketsAsync(Socket socket, SendPacketsElement[] elements, CancellationToken cancellationToken)
    {
        using var operation = new SocketAsyncEventArgs { SendPacketsElements = elements };
        var completed = new TaskCompletionSource<SocketError>(TaskCreationOptions.RunContinuationsAsynchronously);
        operation.Completed += (_, e) => completed.TrySetResult(e.SocketError);
        using var abort = cancellationToken.Register(() => ShutDown(socket));
        if (!socket.SendPacketsAsync(operation))
        {
            return operation.SocketError;
        }
        return await completed.Task.ConfigureAwait(false);
    }

    // TCP_CORK while a cached blob goes out: only full segments leave, and lifting it sends the tail. Kestrel sets
    // TCP_NODELAY, with which every refill of the socket buffer left with a short segment; nginx corks (tcp_nopush).
    // Chosen with the side-by-side harness's warm runs (perf/RESULTS.md#corked-sends-tcp_cork). Linux only, as sendfile
    // here is.
    private static void SetCork(Socket socket, bool on)
    {
        const int IpProtoTcp = 6;
        const int TcpCork = 3;
        try
        {
            // The option's int, little-endian as on every platform .NET runs on Linux; constant bytes, so nothing is allocated.
            socket.SetRawSocketOption(IpProtoTcp, TcpCork, on ? [1, 0, 0, 0] : [0, 0, 0, 0]);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // A connection already gone, or a system without the option: the blob goes out uncorked or not at all.
        }
    }

    private static void ShutDown(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }
}
