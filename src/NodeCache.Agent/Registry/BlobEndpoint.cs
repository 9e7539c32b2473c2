using System.Net;
using Microsoft.AspNetCore.Connections.Features;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>Serves <c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>: from the cache with the kernel's file path, or by following a fill.</summary>
internal sealed class BlobEndpoint(BlobStore store, BlobFills fills, RegistryClient upstream, DiskSpace space, MirrorMetrics metrics, ILogger<BlobEndpoint> logger)
{
    // 128 KiB, as a fill copies: large enough to amortise the hashing and the write per call.
    private const int UncachedCopyBufferSize = 128 * 1024;

    // The shortest range the socket path answers: a shorter one costs less copied through Kestrel than the new connection
    // the socket path's Connection: close makes the client open (a judgement, not a measurement: containerd asks for
    // ranges only to resume a broken layer download, which is long).
    private const long MinSocketRange = 1024 * 1024;

    // How long a client that received a blob over a closing connection may take to close its side.
    private static readonly TimeSpan DeliveryGrace = TimeSpan.FromSeconds(30);

    public async Task ServeAsync(HttpContext context, UpstreamRoute route, RepositoryName repository, Digest digest)
    {
        if (store.TryGet(digest, out var cached) && await TryServeCachedAsync(context, cached).ConfigureAwait(false))
        {
            metrics.Request("blob", "hit");
            return;
        }
        if (HttpMethods.IsHead(context.Request.Method))
        {
            if (fills.TryGetComplete(digest, out var complete))
            {
                // Verified and in place, its record to follow once the file is on disk: as good as cached.
                metrics.Request("blob", "hit");
                RegistryHeaders.SetContent(context.Response, digest, complete.MediaType, complete.Written);
                context.Response.Headers.AcceptRanges = "bytes";
                return;
            }
            await ServeUpstreamHeadAsync(context, route, repository, digest).ConfigureAwait(false);
            return;
        }
        if (space.IsFull && !space.Recheck())
        {
            await ServeUncachedAsync(context, route, repository, digest).ConfigureAwait(false);
            return;
        }
        var source = await fills.JoinOrStartAsync(route, repository, digest, context.RequestAborted).ConfigureAwait(false);
        if (source.Cached is { } committed)
        {
            if (await TryServeCachedAsync(context, committed).ConfigureAwait(false))
            {
                metrics.Request("blob", "hit");
                return;
            }
            // A fill had just committed it, and an eviction took it before it could be leased: it is a miss after all.
            source = await fills.JoinOrStartAsync(route, repository, digest, context.RequestAborted).ConfigureAwait(false);
        }
        if (source.DiskFull)
        {
            await ServeUncachedAsync(context, route, repository, digest).ConfigureAwait(false);
        }
        else if (source.Cached is { } recommitted && await TryServeCachedAsync(context, recommitted).ConfigureAwait(false))
        {
            metrics.Request("blob", "hit");
        }
        else if (source.Fill is { } fill)
        {
            metrics.Request("blob", source.Joined ? "coalesced" : "miss");
            await ServeFillAsync(context, fill).ConfigureAwait(false);
        }
        else
        {
            metrics.Request("blob", "error");
            await OciErrorResponse.WriteAsync(context, source.Error ?? new MirrorError(HttpStatusCode.NotFound, OciErrorCode.BlobUnknown, $"blob {digest} is unknown")).ConfigureAwait(false);
        }
    }

    // The lease keeps eviction and quarantine off the file until the response is done; a blob being removed is a miss.
    private async Task<bool> TryServeCachedAsync(HttpContext context, CachedBlob blob)
    {
        if (!store.Leases.TryAcquire(blob.Digest, out var lease))
        {
            return false;
        }
        using (lease)
        {
            // Evicted between the lookup and the lease: the lease keeps any later removal off, but this one is done.
            return store.Contains(blob.Digest) && await ServeLeasedAsync(context, blob).ConfigureAwait(false);
        }
    }

    private async Task<bool> ServeLeasedAsync(HttpContext context, CachedBlob blob)
    {
        var asked = AskedRange(context.Request, blob.Size, out var range);
        if (IsSocketGet(context.Request) && IsSocketRange(asked, range) && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            // Kestrel can only copy a file through user space. On a connection Kestrel already owns, the blob (or the one
            // range asked for) goes out by sendfile on the socket itself, with Connection: close: the client's next request
            // opens a new connection, which SendfileConnection serves without Kestrel.
            ByteRange? part = asked == RangeRequest.Partial ? range : null;
            if (await SendfileResponse.SendAsync(socket, blob, part, close: true, metrics, logger, context.RequestAborted).ConfigureAwait(false))
            {
                PullFeature.Served(context, fromCache: true, range.Length);
                await CloseAfterDeliveryAsync(socket, context.RequestAborted).ConfigureAwait(false);
            }
            context.Abort();
            return true;
        }
        if (!TryStartResponse(context, blob.Digest, blob.MediaType, blob.Size, asked, range))
        {
            return true;
        }
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return true;
        }
        try
        {
            await context.Response.SendFileAsync(blob.Path, range.First, range.Length, context.RequestAborted).ConfigureAwait(false);
            metrics.Served("cache", range.Length);
            PullFeature.Served(context, fromCache: true, range.Length);
        }
        catch (FileNotFoundException) when (!context.Response.HasStarted)
        {
            // Gone between the index and the open (an eviction): treat it as the miss it now is.
            context.Response.Clear();
            return false;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        return true;
    }

    private async Task ServeFillAsync(HttpContext context, BlobFill fill)
    {
        var size = fill.Size ?? await SizeOnceEndedAsync(fill, context.RequestAborted).ConfigureAwait(false);
        if (size is null)
        {
            await OciErrorResponse.WriteAsync(context, HttpStatusCode.ServiceUnavailable, OciErrorCode.Unavailable, $"could not fetch blob {fill.Digest}").ConfigureAwait(false);
            return;
        }
        var asked = AskedRange(context.Request, size.Value, out var range);
        if (IsSocketGet(context.Request) && asked == RangeRequest.Whole && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            await SendFillAsync(context, socket, fill, size.Value).ConfigureAwait(false);
            return;
        }
        if (!TryStartResponse(context, fill.Digest, fill.MediaType, size.Value, asked, range))
        {
            return;
        }
        try
        {
            await FillReader.CopyAsync(fill, range, context.Response.BodyWriter, context.RequestAborted).ConfigureAwait(false);
            metrics.Served("upstream", range.Length);
            PullFeature.Served(context, fromCache: false, range.Length);
        }
        catch (FillFailedException ex)
        {
            // Never let a body end cleanly when its bytes are not the digest's: the client must see a broken transfer.
            logger.LogWarning("Aborting a response for {Digest}: {Reason}", fill.Digest, ex.Message);
            context.Abort();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    // As a cached blob goes: by sendfile on the socket, from the fill's file as it grows, with Connection: close.
    private async Task SendFillAsync(HttpContext context, System.Net.Sockets.Socket socket, BlobFill fill, long size)
    {
        try
        {
            if (await SendfileResponse.SendAsync(socket, fill, size, close: true, metrics, logger, context.RequestAborted).ConfigureAwait(false))
            {
                PullFeature.Served(context, fromCache: false, size);
                await CloseAfterDeliveryAsync(socket, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (FillFailedException ex)
        {
            logger.LogWarning("Aborting a response for {Digest}: {Reason}", fill.Digest, ex.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        context.Abort();
    }

    // An abort right after sendfile would reset the connection with the blob's tail still in the socket buffer. Shutting
    // down the sending side queues the FIN behind the data; the client reads to Content-Length and closes its side,
    // which ends the request, and only then is the connection torn down.
    private static async Task CloseAfterDeliveryAsync(System.Net.Sockets.Socket socket, CancellationToken clientClosed)
    {
        try
        {
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            await Task.Delay(DeliveryGrace, clientClosed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
        }
    }

    // What the socket path can answer: a plain-text HTTP/1.1 GET with no condition to evaluate.
    private static bool IsSocketGet(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Protocol == "HTTP/1.1" && !request.IsHttps
        && request.Headers.IfRange.Count == 0 && request.Headers.IfNoneMatch.Count == 0;

    // The Range header read against the blob's size; the range is the whole blob unless one range inside it was asked for.
    private static RangeRequest AskedRange(HttpRequest request, long size, out ByteRange range)
    {
        var asked = RangeHeader.Parse(request.Headers.Range.ToString(), size, out range);
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

    // An upstream that sends no Content-Length leaves the size unknown until the fill ends.
    private static async Task<long?> SizeOnceEndedAsync(BlobFill fill, CancellationToken cancellationToken) =>
        await fill.Ended.WaitAsync(cancellationToken).ConfigureAwait(false) == FillState.Committed ? fill.Written : null;

    private async Task ServeUpstreamHeadAsync(HttpContext context, UpstreamRoute route, RepositoryName repository, Digest digest)
    {
        using var response = await upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Head, repository, RegistryObject.Blob, digest.ToString()), context.RequestAborted).ConfigureAwait(false);
        metrics.UpstreamRequest(route.Registry, response);
        if (response.Outcome != UpstreamOutcome.Success || response.Message?.Content.Headers.ContentLength is not { } length)
        {
            metrics.Request("blob", "error");
            await OciErrorResponse.WriteAsync(context, MirrorError.FromUpstream(response, OciErrorCode.BlobUnknown, $"blob {digest}")).ConfigureAwait(false);
            return;
        }
        metrics.Request("blob", "miss");
        RegistryHeaders.SetContent(context.Response, digest, MediaTypes.OctetStream, length);
        context.Response.Headers.AcceptRanges = "bytes";
    }

    /// <summary>
    /// The disk is full: the upstream's bytes go to the client as they come, and nowhere else. The last byte is held back
    /// until the whole body hashes to the digest, so a wrong body still ends as a broken transfer.
    /// </summary>
    private async Task ServeUncachedAsync(HttpContext context, UpstreamRoute route, RepositoryName repository, Digest digest)
    {
        space.CountSkippedFill();
        using var response = await upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Get, repository, RegistryObject.Blob, digest.ToString()), context.RequestAborted).ConfigureAwait(false);
        metrics.UpstreamRequest(route.Registry, response);
        if (response.Outcome != UpstreamOutcome.Success || response.Message?.Content is not { Headers.ContentLength: { } length } content)
        {
            metrics.Request("blob", "error");
            await OciErrorResponse.WriteAsync(context, MirrorError.FromUpstream(response, OciErrorCode.BlobUnknown, $"blob {digest}")).ConfigureAwait(false);
            return;
        }
        metrics.Request("blob", "miss");
        // A Range is answered with the whole blob: a 200 is a valid answer to it, and containerd skips what it has.
        RegistryHeaders.SetContent(context.Response, digest, content.Headers.ContentType?.MediaType ?? MediaTypes.OctetStream, length);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(UncachedCopyBufferSize);
        try
        {
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var body = await content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            long received = 0;
            byte tail = 0;
            await using (body.ConfigureAwait(false))
            {
                int read;
                while ((read = await body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
                {
                    received += read;
                    if (received > length)
                    {
                        break;
                    }
                    hash.AppendData(buffer, 0, read);
                    var complete = received == length;
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, complete ? read - 1 : read), context.RequestAborted).ConfigureAwait(false);
                    tail = buffer[read - 1];
                }
            }
            if (received == length && Digest.FromHash(hash.GetHashAndReset()) == digest)
            {
                if (length > 0)
                {
                    await context.Response.Body.WriteAsync(new[] { tail }, context.RequestAborted).ConfigureAwait(false);
                }
                metrics.Served("upstream", length);
                return;
            }
            logger.LogWarning("Aborting an uncached response for {Digest}: the upstream sent {Received} bytes of {Length} that are not the digest's", digest, received, length);
            context.Abort();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            logger.LogWarning("Aborting an uncached response for {Digest}: {Reason}", digest, ex.Message);
            context.Abort();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sets status and headers for the whole blob or the requested range; false when it answered 416 instead.</summary>
    private static bool TryStartResponse(HttpContext context, Digest digest, string mediaType, long size, RangeRequest asked, ByteRange range)
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
