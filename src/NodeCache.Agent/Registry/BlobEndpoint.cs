using System.Net;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>Serves <c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>: from the cache with the kernel's file path, or by following a fill.</summary>
internal sealed class BlobEndpoint(BlobStore store, BlobFills fills, RegistryClient upstream, MirrorMetrics metrics, ILogger<BlobEndpoint> logger)
{
    public async Task ServeAsync(HttpContext context, UpstreamRoute route, RepositoryName repository, Digest digest)
    {
        if (store.TryGet(digest, out var cached) && await TryServeCachedAsync(context, cached).ConfigureAwait(false))
        {
            metrics.Request("blob", "hit");
            return;
        }
        if (HttpMethods.IsHead(context.Request.Method))
        {
            await ServeUpstreamHeadAsync(context, route, repository, digest).ConfigureAwait(false);
            return;
        }
        var source = await fills.JoinOrStartAsync(route, repository, digest, context.RequestAborted).ConfigureAwait(false);
        if (source.Cached is { } committed && await TryServeCachedAsync(context, committed).ConfigureAwait(false))
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

    private async Task<bool> TryServeCachedAsync(HttpContext context, CachedBlob blob)
    {
        if (!TryStartResponse(context, blob.Digest, blob.MediaType, blob.Size, out var range))
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
        if (!TryStartResponse(context, fill.Digest, fill.MediaType, size.Value, out var range))
        {
            return;
        }
        try
        {
            await FillReader.CopyAsync(fill, range, context.Response.BodyWriter, context.RequestAborted).ConfigureAwait(false);
            metrics.Served("upstream", range.Length);
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

    // An upstream that sends no Content-Length leaves the size unknown until the fill ends.
    private static async Task<long?> SizeOnceEndedAsync(BlobFill fill, CancellationToken cancellationToken) =>
        await fill.Ended.WaitAsync(cancellationToken).ConfigureAwait(false) == FillState.Committed ? fill.Written : null;

    private async Task ServeUpstreamHeadAsync(HttpContext context, UpstreamRoute route, RepositoryName repository, Digest digest)
    {
        using var response = await upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Head, repository, RegistryObject.Blob, digest.ToString()), context.RequestAborted).ConfigureAwait(false);
        metrics.UpstreamRequest(route.Registry, (int?)response.StatusCode);
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

    /// <summary>Sets status and headers for the whole blob or the requested range; false when it answered 416 instead.</summary>
    private static bool TryStartResponse(HttpContext context, Digest digest, string mediaType, long size, out ByteRange range)
    {
        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        switch (RangeHeader.Parse(context.Request.Headers.Range.ToString(), size, out range))
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
                range = new ByteRange(0, size - 1);
                RegistryHeaders.SetContent(response, digest, mediaType, size);
                return true;
        }
    }
}
