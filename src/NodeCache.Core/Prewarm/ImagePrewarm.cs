using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Prefetch;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Upstream;

namespace NodeCache.Prewarm;

/// <summary>
/// Brings one image into the cache before anyone pulls it: plans it as prefetch does (<see cref="PrefetchPlanner"/>: its
/// manifests, choosing a platform from an index) and fetches its config and layers with <see cref="BlobFills"/>, the same
/// fills the registry API serves from, so a pull that arrives meanwhile follows the fill instead of starting another.
/// </summary>
public sealed class ImagePrewarm(UpstreamRules rules, PrefetchPlanner planner, BlobFills fills, BlobStore store)
{
    // Blobs fetched at once for one image: containerd's own default for parallel layer downloads.
    private const int ParallelBlobs = 3;

    // Progress of a running fill is reported at most this often; a terminal does not redraw faster.
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>The steps of prewarming <paramref name="image"/>, ending with one <see cref="PrewarmFinished"/>.</summary>
    /// <param name="platform">The platform chosen from an index.</param>
    public async IAsyncEnumerable<PrewarmProgress> RunAsync(ImageReference image, Platform platform, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<PrewarmProgress>(new UnboundedChannelOptions { SingleReader = true });
        var run = Task.Run(async () =>
        {
            try
            {
                await channel.Writer.WriteAsync(await ProduceAsync(image, platform, channel.Writer, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                channel.Writer.Complete();
            }
            catch (Exception ex)
            {
                channel.Writer.Complete(ex);
            }
        }, cancellationToken);
        await foreach (var step in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return step;
        }
        await run.ConfigureAwait(false);
    }

    private async Task<PrewarmFinished> ProduceAsync(ImageReference image, Platform platform, ChannelWriter<PrewarmProgress> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!rules.TryResolve(image.Registry, out var route))
        {
            return new PrewarmFinished(image, null, PrewarmFailure.NoUpstream, $"no upstream is configured for registry {image.Registry}", 0, 0, clock.Elapsed);
        }
        var planned = await planner.PlanAsync(image, platform, identity: null, cancellationToken).ConfigureAwait(false);
        if (planned.Plan is not { } plan)
        {
            var failure = planned.Failure switch
            {
                PlanFailure.NoUpstream => PrewarmFailure.NoUpstream,
                PlanFailure.NotFound => PrewarmFailure.NotFound,
                _ => PrewarmFailure.Upstream,
            };
            return new PrewarmFinished(image, planned.Manifest, failure, $"{image}: {planned.Problem}", 0, 0, clock.Elapsed);
        }
        long fetched = plan.ManifestBytesFetched;
        long cached = plan.ManifestBytesCached;
        var blobs = plan.Blobs;
        await progress.WriteAsync(new PrewarmResolved(image, plan.Manifest, platform, blobs.Count, plan.TotalBytes), cancellationToken).ConfigureAwait(false);
        using var slots = new SemaphoreSlim(ParallelBlobs);
        var results = await Task.WhenAll(blobs.Select(async (blob, i) =>
        {
            var kind = i == 0 ? "config" : "layer";
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await FetchBlobAsync(image, route, blob, kind, progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        })).ConfigureAwait(false);
        foreach (var result in results)
        {
            fetched += result.State == PrewarmBlobState.Fetched ? result.Size : 0;
            cached += result.State == PrewarmBlobState.Cached ? result.Size : 0;
        }
        var failures = results.Where(r => r.State == PrewarmBlobState.Failed).ToList();
        return failures.Count == 0
            ? new PrewarmFinished(image, plan.Manifest, PrewarmFailure.None, "", fetched, cached, clock.Elapsed)
            : new PrewarmFinished(image, plan.Manifest, PrewarmFailure.Upstream, $"{failures.Count} of {results.Length} blobs could not be fetched: {failures[0].Error}", fetched, cached, clock.Elapsed);
    }

    private async Task<PrewarmBlob> FetchBlobAsync(ImageReference image, UpstreamRoute route, PlannedBlob blob, string kind, ChannelWriter<PrewarmProgress> progress, CancellationToken cancellationToken)
    {
        PrewarmBlob Step(long done, PrewarmBlobState state, string? error = null) => new(image, blob.Digest, kind, blob.Size, done, state, error);

        if (store.Contains(blob.Digest))
        {
            return await ReportAsync(Step(blob.Size, PrewarmBlobState.Cached)).ConfigureAwait(false);
        }
        await progress.WriteAsync(Step(0, PrewarmBlobState.Fetching), cancellationToken).ConfigureAwait(false);
        var source = await fills.JoinOrStartAsync(route, image.Repository, blob.Digest, cancellationToken).ConfigureAwait(false);
        if (source.Cached is not null)
        {
            return await ReportAsync(Step(blob.Size, PrewarmBlobState.Cached)).ConfigureAwait(false);
        }
        if (source.Fill is not { } fill)
        {
            return await ReportAsync(Step(0, PrewarmBlobState.Failed, source.Error?.Message ?? $"blob {blob.Digest} could not be fetched")).ConfigureAwait(false);
        }
        long reported = 0;
        while (fill.State == FillState.Running && !fill.Complete)
        {
            await fill.WaitForProgressAsync(reported, cancellationToken).ConfigureAwait(false);
            if (fill.State != FillState.Running || fill.Complete)
            {
                break;
            }
            reported = fill.Written;
            await progress.WriteAsync(Step(reported, PrewarmBlobState.Fetching), cancellationToken).ConfigureAwait(false);
            await Task.Delay(ProgressInterval, cancellationToken).ConfigureAwait(false);
        }
        var ended = await fill.SettledAsync(cancellationToken).ConfigureAwait(false);
        return await ReportAsync(ended == FillState.Committed
            ? Step(fill.Written, PrewarmBlobState.Fetched)
            : Step(fill.Written, PrewarmBlobState.Failed, fill.FailureReason ?? "the fill failed")).ConfigureAwait(false);

        async Task<PrewarmBlob> ReportAsync(PrewarmBlob step)
        {
            await progress.WriteAsync(step, cancellationToken).ConfigureAwait(false);
            return step;
        }
    }
}
