using Grpc.Core;
using NodeCache.Agent.Configuration;
using NodeCache.Control.V1;
using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Prewarm;
using NodeCache.Pulls;
using NodeCache.Store;
using BlobState = NodeCache.Store.BlobState;
using CachedImages = NodeCache.Store.CachedImages;

namespace NodeCache.Agent.Control;

/// <summary>The control API: prewarm, list, stats and the live pulls, answered from the same cache and fills the registry API uses.</summary>
internal sealed class ControlService(
    ImagePrewarm prewarm, CachedImages images, BlobIndex blobs, BlobFills fills, PullTracker pulls, AgentOptions options, ILogger<ControlService> logger,
    ImportCall importCall, ExportCall exportCall)
    : CacheControl.CacheControlBase
{
    public override async Task Prewarm(PrewarmRequest request, IServerStreamWriter<PrewarmEvent> responseStream, ServerCallContext context)
    {
        if (request.Pin)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "pinning is not available in this agent: prewarm without --pin"));
        }
        if (request.Images.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "name at least one image"));
        }
        var references = new List<ImageReference>();
        foreach (var text in request.Images)
        {
            if (!ImageReference.TryParse(text, out var reference, out var error))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"bad image reference '{text}': {error}"));
            }
            references.Add(reference);
        }
        var platform = string.IsNullOrEmpty(request.Platform) ? ImageManifest.CurrentPlatform : request.Platform;
        foreach (var reference in references)
        {
            logger.LogInformation("Prewarming {Image} for {Platform}", reference, platform);
            await foreach (var step in prewarm.RunAsync(reference, platform, context.CancellationToken).ConfigureAwait(false))
            {
                if (step is PrewarmFinished { Failure: not PrewarmFailure.None } failed)
                {
                    logger.LogWarning("Prewarm of {Image} failed: {Message}", failed.Image, failed.Message);
                }
                await responseStream.WriteAsync(ControlMessages.From(step), context.CancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        var response = new ListImagesResponse();
        response.Images.AddRange(images.List().Select(ControlMessages.From));
        return Task.FromResult(response);
    }

    public override Task<CacheStats> GetStats(GetStatsRequest request, ServerCallContext context)
    {
        long used = 0, count = 0;
        foreach (var (_, record) in blobs.Entries())
        {
            if (record.State == BlobState.Committed)
            {
                used += record.Size;
                count++;
            }
        }
        var drive = new DriveInfo(options.CacheDir);
        return Task.FromResult(new CacheStats
        {
            UsedBytes = used,
            Blobs = count,
            Images = images.TagCount,
            CapacityBytes = options.CacheSize.Resolve(drive.TotalSize),
            FilesystemFreeBytes = drive.AvailableFreeSpace,
            FillsInFlight = fills.Count,
            CacheDir = options.CacheDir,
        });
    }

    public override Task<EvictResponse> Evict(EvictRequest request, ServerCallContext context) => throw NotAvailable("evict");

    public override Task<PinResponse> Pin(PinRequest request, ServerCallContext context) => throw NotAvailable("pin");

    public override Task<UnpinResponse> Unpin(UnpinRequest request, ServerCallContext context) => throw NotAvailable("unpin");

    public override async Task WatchPulls(WatchPullsRequest request, IServerStreamWriter<PullEvent> responseStream, ServerCallContext context)
    {
        // Subscribe before reading the snapshot, so a pull that ends in between is sent twice rather than never.
        using var watch = request.Follow ? pulls.Watch() : null;
        if (request.IncludeRecent)
        {
            foreach (var pull in pulls.Recent().Concat(pulls.Running()))
            {
                await responseStream.WriteAsync(ControlMessages.From(pull), context.CancellationToken).ConfigureAwait(false);
            }
        }
        if (watch is null)
        {
            return;
        }
        try
        {
            await foreach (var pull in watch.Events.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(ControlMessages.From(pull), context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
    }

    public override Task Import(IAsyncStreamReader<ImportChunk> requestStream, IServerStreamWriter<ImportEvent> responseStream, ServerCallContext context) =>
        importCall.RunAsync(requestStream, responseStream, context);

    public override Task Export(ExportRequest request, IServerStreamWriter<ExportChunk> responseStream, ServerCallContext context) =>
        exportCall.RunAsync(request, responseStream, context);

    private static RpcException NotAvailable(string what) =>
        new(new Status(StatusCode.Unimplemented, $"{what} is not available in this agent version"));
}
