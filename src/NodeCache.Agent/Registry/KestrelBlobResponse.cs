using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store.Blobs;

namespace NodeCache.Agent.Registry;

/// <summary>
/// A blob response through Kestrel's HTTP pipeline: what the connection-level fast path leaves to Kestrel (a HEAD, a
/// Range, a conditional, an encoded path, a request after Kestrel took the connection). Kestrel can only copy a file
/// through user space, so a plain GET still goes out by sendfile on the connection's socket, with Connection: close.
/// </summary>
internal sealed class KestrelBlobResponse(HttpContext context) : IBlobResponse
{
    // The shortest range the socket answers: a shorter one costs less copied through Kestrel than the new connection the
    // socket's Connection: close makes the client open (a judgement, not a measurement: containerd asks for ranges only to
    // resume a broken layer download, which is long).
    private const long MinSocketRange = 1024 * 1024;

    // How long a client that received a blob over a closing connection may take to close its side.
    private static readonly TimeSpan DeliveryGrace = TimeSpan.FromSeconds(30);

    public bool IsHead => HttpMethods.IsHead(context.Request.Method);

    public IPAddress? Client => context.Connection.RemoteIpAddress;

    public CancellationToken Aborted => context.RequestAborted;

    public async Task<long> SendCachedAsync(CachedBlob blob)
    {
        var asked = AskedRange(blob.Size, out var range);
        if (IsSocketRange(asked, range) && SocketForGet() is { } socket)
        {
            ByteRange? part = asked == RangeRequest.Partial ? range : null;
            return await SendOnSocketAsync(socket, () => SocketBlobResponse.SendFileAsync(socket, blob, part, close: true, Aborted), part?.Length ?? blob.Size).ConfigureAwait(false);
        }
        if (!TryStartResponse(blob.Digest, blob.MediaType, blob.Size, asked, range) || IsHead)
        {
            return 0;
        }
        try
        {
            await context.Response.SendFileAsync(blob.Path, range.First, range.Length, Aborted).ConfigureAwait(false);
            return range.Length;
        }
        catch (OperationCanceledException) when (Aborted.IsCancellationRequested)
        {
            return 0;
        }
    }

    public async Task<long> SendFillAsync(BlobFill fill, long size, bool holdPeerBytes)
    {
        var asked = AskedRange(size, out var range);
        if (asked == RangeRequest.Whole && SocketForGet() is { } socket)
        {
            return await SendOnSocketAsync(socket, () => SocketBlobResponse.SendGrowingFileAsync(socket, fill, size, close: true, holdPeerBytes, Aborted), size).ConfigureAwait(false);
        }
        if (!TryStartResponse(fill.Digest, fill.MediaType, size, asked, range))
        {
            return 0;
        }
        try
        {
            await FillReader.CopyAsync(fill, range, context.Response.BodyWriter, Aborted, holdPeerBytes).ConfigureAwait(false);
            return range.Length;
        }
        catch (OperationCanceledException) when (Aborted.IsCancellationRequested)
        {
            return 0;
        }
    }

    public async Task<long> SendPassThroughAsync(PassThroughBlob blob)
    {
        // A Range is answered with the whole blob: a 200 is a valid answer to it, and containerd skips what it has.
        RegistryHeaders.SetContent(context.Response, blob.Digest, blob.MediaType, blob.Size);
        try
        {
            await blob.CopyToAsync(context.Response.BodyWriter, Aborted).ConfigureAwait(false);
            return blob.Size;
        }
        catch (OperationCanceledException) when (Aborted.IsCancellationRequested)
        {
            return 0;
        }
    }

    public Task SendHeadAsync(Digest digest, string mediaType, long size)
    {
        RegistryHeaders.SetContent(context.Response, digest, mediaType, size);
        context.Response.Headers.AcceptRanges = "bytes";
        return Task.CompletedTask;
    }

    public Task SendErrorAsync(MirrorError error) => OciErrorResponse.WriteAsync(context, error);

    public void Abort() => context.Abort();

    // On a connection Kestrel already owns, the blob goes out by sendfile on the socket itself, with Connection: close:
    // the client's next request opens a new connection, which the fast path (SendfileConnection) serves without Kestrel.
    private async Task<long> SendOnSocketAsync(Socket socket, Func<Task<bool>> send, long length)
    {
        long sent = 0;
        try
        {
            if (await send().ConfigureAwait(false))
            {
                sent = length;
                await CloseAfterDeliveryAsync(socket).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (Aborted.IsCancellationRequested)
        {
        }
        finally
        {
            // Kestrel never wrote this response: it must not write another on the connection.
            context.Abort();
        }
        return sent;
    }

    // An abort right after sendfile would reset the connection with the blob's tail still in the socket buffer. Shutting
    // down the sending side queues the FIN behind the data; the client reads to Content-Length and closes its side,
    // which ends the request, and only then is the connection torn down.
    private async Task CloseAfterDeliveryAsync(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            await Task.Delay(DeliveryGrace, Aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    // What the socket can answer: a plain-text HTTP/1.1 GET with no condition to evaluate.
    private Socket? SocketForGet()
    {
        var request = context.Request;
        return HttpMethods.IsGet(request.Method) && request.Protocol == "HTTP/1.1" && !request.IsHttps
            && request.Headers.IfRange.Count == 0 && request.Headers.IfNoneMatch.Count == 0
            ? context.Features.Get<IConnectionSocketFeature>()?.Socket
            : null;
    }

    // The Range header read against the blob's size; the range is the whole blob unless one range inside it was asked for.
    private RangeRequest AskedRange(long size, out ByteRange range)
    {
        var asked = RangeHeader.Parse(context.Request.Headers.Range.ToString(), size, out range);
        if (asked == RangeRequest.Whole)
        {
            range = new ByteRange(0, size - 1);
        }
        return asked;
    }

    // The whole blob, or one range long enough to be worth a new connection and short enough for one sendfile element;
    // the rest (416 among them) is Kestrel's to answer.
    private static bool IsSocketRange(RangeRequest asked, ByteRange range) => asked switch
    {
        RangeRequest.Whole => true,
        RangeRequest.Partial => range.Length is >= MinSocketRange and <= int.MaxValue,
        _ => false,
    };

    /// <summary>Sets status and headers for the whole blob or the requested range; false when it answered 416 instead.</summary>
    private bool TryStartResponse(Digest digest, string mediaType, long size, RangeRequest asked, ByteRange range)
    {
        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        switch (asked)
        {
            case RangeRequest.Partial:
                RegistryHeaders.SetContent(response, digest, mediaType, range.Length);
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = range.ToContentRange(size);
                return true;
            case RangeRequest.Unsatisfiable:
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{size}";
                response.ContentLength = 0;
                return false;
            default:
                RegistryHeaders.SetContent(response, digest, mediaType, size);
                return true;
        }
    }
}
