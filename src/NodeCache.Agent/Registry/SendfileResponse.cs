using System.Globalization;
using System.Net.Sockets;
using System.Text;
using NodeCache.Store;
using NodeCache.Telemetry;

namespace NodeCache.Agent.Registry;

/// <summary>Writes a whole cached blob as an HTTP/1.1 200 straight to the socket: the head, then the file by sendfile(2).</summary>
internal static class SendfileResponse
{
    /// <returns>False when the connection broke part way: the caller must close it, as the response cannot end honestly.</returns>
    public static async Task<bool> SendAsync(Socket socket, CachedBlob blob, bool close, MirrorMetrics metrics, ILogger logger, CancellationToken cancellationToken)
    {
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 200 OK\r\nContent-Length: {blob.Size}\r\nContent-Type: {blob.MediaType}\r\n" +
            $"{RegistryHeaders.ContentDigest}: {blob.Digest}\r\nETag: \"{blob.Digest}\"\r\nAccept-Ranges: bytes\r\n" +
            $"{RegistryHeaders.ApiVersion}: registry/2.0\r\nDate: {DateTimeOffset.UtcNow:r}\r\n{(close ? "Connection: close\r\n" : "")}\r\n"));
        SocketError result;
        try
        {
            // Socket.SendFileAsync(path) opens the file itself and, on Linux, leaves the handle to the finalizer: a warm load
            // allocates so little that no GC runs, and the load test saw thousands of blob descriptors pile up (evicted files
            // among them, holding their disk space). The file is opened (asynchronous, as SendPacketsElement requires) and closed here.
            var file = new FileStream(blob.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                result = await SendPacketsAsync(socket, head, file, cancellationToken).ConfigureAwait(false);
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
        metrics.Served("cache", blob.Size);
        return true;
    }

    // The head and the whole file (count 0) in one operation. It cannot be cancelled itself, so a connection that is gone is
    // shut down to end it; the file stays open until it has ended.
    private static async Task<SocketError> SendPacketsAsync(Socket socket, byte[] head, FileStream file, CancellationToken cancellationToken)
    {
        using var operation = new SocketAsyncEventArgs
        {
            SendPacketsElements = [new SendPacketsElement(head), new SendPacketsElement(file, 0, 0, endOfPacket: true)],
        };
        var completed = new TaskCompletionSource<SocketError>(TaskCreationOptions.RunContinuationsAsynchronously);
        operation.Completed += (_, e) => completed.TrySetResult(e.SocketError);
        using var abort = cancellationToken.Register(() => ShutDown(socket));
        if (!socket.SendPacketsAsync(operation))
        {
            return operation.SocketError;
        }
        return await completed.Task.ConfigureAwait(false);
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
