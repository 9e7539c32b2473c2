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
        try
        {
            await socket.SendFileAsync(blob.Path, head, ReadOnlyMemory<byte>.Empty, TransmitFileOptions.UseDefaultWorkerThread, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            logger.LogDebug("Sending blob {Digest} ended early: {Reason}", blob.Digest, ex.Message);
            return false;
        }
        metrics.Served("cache", blob.Size);
        return true;
    }
}
