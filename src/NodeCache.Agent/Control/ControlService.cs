using Grpc.Core;
using NodeCache.Agent.Configuration;
using NodeCache.Agent.Peers;
using NodeCache.Control.V1;
using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Prewarm;
using NodeCache.Pulls;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using CachedImages = NodeCache.Store.Images.CachedImages;

namespace NodeCache.Agent.Control;

/// <summary>The control API: prewarm, list, stats, the live pulls and the peers, answered from the same cache and fills the registry API uses.</summary>
internal sealed class ControlService(
    ImagePrewarm prewarm, CachedImages images, BlobFills fills, PullTracker pulls, AgentOptions options, CacheEdits edits, BlobEviction eviction, Pins pins,
    ImportCall importCall, ExportCall exportCall, ILogger<ControlService> logger, PeerReport? peers = null)
    : CacheControl.CacheControlBase
{
    public override async Task Prewarm(PrewarmRequest request, IServerStreamWriter<PrewarmEvent> responseStream, ServerCallContext context)
    {
        if (request.Images.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "name at least one image"));
        }
        var references = new List<ImageReference>();
        foreach (var text in request.Images)
        {
            // A name without a registry is for the agent's default registry, as a registry request without ns is.
            if (!ImageReference.TryParse(text, options.DefaultRegistry, out var reference, out var error))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"bad image reference '{text}': {error}"));
            }
            references.Add(reference);
        }
        var platform = Platform.Current;
        if (!string.IsNullOrEmpty(request.Platform) && !Platform.TryParse(request.Platform, out platform))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"bad platform '{request.Platform}': os/arch[/variant], e.g. linux/arm64"));
        }
        foreach (var reference in references)
        {
            logger.LogInformation("Prewarming {Image} for {Platform}", reference, platform);
            await foreach (var step in prewarm.RunAsync(reference, platform, context.CancellationToken).ConfigureAwait(false))
            {
                if (step is PrewarmFinished { Failure: not PrewarmFailure.None } failed)
                {
                    logger.LogWarning("Prewarm of {Image} failed: {Message}", failed.Image, failed.Message);
                }
                var message = ControlMessages.From(step);
                // Pinned by the reference as named, once fetched: a tag pin follows the tag, as pinning it later would.
                if (request.Pin && step is PrewarmFinished { Failure: PrewarmFailure.None })
                {
                    pins.Pin(PinnedImage.From(reference));
                    message.Done.Pinned = true;
                }
                await responseStream.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        var pinned = edits.Pinned();
        var response = new ListImagesResponse();
        response.Images.AddRange(images.List().Select(image => ControlMessages.From(image, pinned.Contains(image.Digest))));
        return Task.FromResult(response);
    }

    public override Task<CacheStats> GetStats(GetStatsRequest request, ServerCallContext context)
    {
        var usage = eviction.Usage();
        var drive = new DriveInfo(options.CacheDir);
        return Task.FromResult(new CacheStats
        {
            UsedBytes = usage.UsedBytes,
            Blobs = usage.Blobs,
            Images = images.Count(),
            CapacityBytes = usage.CapacityBytes,
            PinnedBytes = edits.Bytes(edits.Pinned()),
            Evictions = usage.Evictions,
            FilesystemFreeBytes = drive.AvailableFreeSpace,
            FillsInFlight = fills.Count,
            CacheDir = options.CacheDir,
            DefaultRegistry = options.DefaultRegistry,
        });
    }

    public override Task<EvictResponse> Evict(EvictRequest request, ServerCallContext context) => Task.FromResult(edits.Evict(request.Target));

    public override Task<PinResponse> Pin(PinRequest request, ServerCallContext context) => Task.FromResult(edits.Pin(request.Target));

    public override Task<UnpinResponse> Unpin(UnpinRequest request, ServerCallContext context) => Task.FromResult(edits.Unpin(request.Target));

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

    public override Task<ListPeersResponse> ListPeers(ListPeersRequest request, ServerCallContext context) =>
        peers is null
            ? throw new RpcException(new Status(StatusCode.Unimplemented, "peering is off on this agent: it runs without --peer-listen"))
            : Task.FromResult(peers.Snapshot());

    public override Task Export(ExportRequest request, IServerStreamWriter<ExportChunk> responseStream, ServerCallContext context) =>
        exportCall.RunAsync(request, responseStream, context);
}
