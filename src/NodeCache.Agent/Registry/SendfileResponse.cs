using System.Globalization;
using System.Net.Sockets;
using System.Text;
using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Telemetry;

namespace NodeCache.Agent.Registry;

/// <summary>
/// Writes a blob as an HTTP/1.1 response straight to the socket: the head, then the file by sendfile(2). A cached blob
/// (whole, 200, or one range of it, 206) goes in one operation; a blob still being filled goes as its bytes arrive,
/// from the fill's file.
/// </summary>
internal static class SendfileResponse
{
    /// <param name="range">One range of the blob, answered 206; null for the whole blob, answered 200.</param>
    /// <returns>False when the connection broke part way: the caller must close it, as the response cannot end honestly.</returns>
    public static async Task<bool> SendAsync(Socket socket, CachedBlob blob, ByteRange? range, bool close, MirrorMetrics metrics, ILogger logger, CancellationToken cancellationToken)
    {
        var head = Head(blob.Digest, blob.Size, blob.MediaType, close, range);
        // A count of 0 sends the file to its end.
        var (offset, count) = range is { } part ? (part.First, (int)part.Length) : (0L, 0);
        SocketError result;
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
                    result = await SendPacketsAsync(socket, [new SendPacketsElement(head), new SendPacketsElement(file, offset, count, endOfPacket: true)], cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    SetCork(socket, false);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            logger.LogDebug("Sending blob {Digest} ended early: {Reason}", blob.Digest, ex.Message);
            return false;
        }
        if (result != SocketError.Success)
        {
            logger.LogDebug("Sending blob {Digest} ended early: {Reason}", blob.Digest, result);
            return false;
        }
        metrics.Served("cache", range?.Length ?? blob.Size);
        return true;
    }

    /// <summary>
    /// Sends a blob of known <paramref name="size"/> that is still being filled, each time from where the last send ended to
    /// where the fill has got, the last byte once the fill is complete (<see cref="BlobFill.SendableAsync"/>).
    /// </summary>
    /// <returns>False when the connection broke part way: the caller must close it, as the response cannot end honestly.</returns>
    /// <exception cref="FillFailedException">The fill failed: the caller must close the connection.</exception>
    public static async Task<bool> SendAsync(Socket socket, BlobFill fill, long size, bool close, MirrorMetrics metrics, ILogger logger, CancellationToken cancellationToken)
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
                    var sendable = await fill.SendableAsync(position, size, cancellationToken).ConfigureAwait(false);
                    if (sendable == position)
                    {
                        throw new FillFailedException(fill.Digest, $"the complete file ended at byte {position} of {size}");
                    }
                    var bytes = new SendPacketsElement(file, position, checked((int)Math.Min(sendable - position, int.MaxValue)), endOfPacket: true);
                    SendPacketsElement[] elements = position == 0 ? [new SendPacketsElement(head), bytes] : [bytes];
                    var result = await SendPacketsAsync(socket, elements, cancellationToken).ConfigureAwait(false);
                    if (result != SocketError.Success)
                    {
                        logger.LogDebug("Sending blob {Digest} ended early: {Reason}", fill.Digest, result);
                        return false;
                    }
                    position += bytes.Count;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            logger.LogDebug("Sending blob {Digest} ended early: {Reason}", fill.Digest, ex.Message);
            return false;
        }
        metrics.Served("upstream", size);
        return true;
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
