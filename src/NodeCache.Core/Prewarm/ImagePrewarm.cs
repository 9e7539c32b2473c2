using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store;
using NodeCache.Upstream;

namespace NodeCache.Prewarm;

/// <summary>
/// Brings one image into the cache before anyone pulls it: resolves its manifest (choosing a platform from an index) with
/// the <see cref="ManifestResolver"/> and fetches its config and layers with <see cref="BlobFills"/>, the same fills the
/// registry API serves from, so a pull that arrives meanwhile follows the fill instead of starting another.
/// </summary>
public sealed class ImagePrewarm(UpstreamRules rules, ManifestResolver resolver, BlobFills fills, BlobStore store)
{
    // Blobs fetched at once for one image: containerd's own default for parallel layer downloads.
    private const int ParallelBlobs = 3;

    // Progress of a running fill is reported at most this often; a terminal does not redraw faster.
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>The steps of prewarming <paramref name="image"/>, ending with one <see cref="PrewarmFinished"/>.</summary>
    /// <param name="platform"><c>os/arch[/variant]</c> chosen from an index.</param>
    public async IAsyncEnumerable<PrewarmProgress> RunAsync(ImageReference image, string platform, [EnumeratorCancellation] CancellationToken cancellationToken)
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

    private async Task<PrewarmFinished> ProduceAsync(ImageReference image, string platform, ChannelWriter<PrewarmProgress> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!rules.TryResolve(image.Registry, out var route))
        {
            return new PrewarmFinished(image, null, PrewarmFailure.NoUpstream, $"no upstream is configured for registry {image.Registry}", 0, 0, clock.Elapsed);
        }
        var top = await resolver.ResolveAsync(route, image.Repository, image.Reference, MediaTypes.ManifestAccept, cancellationToken).ConfigureAwait(false);
        if (top.Manifest is not { } manifest)
        {
            return Failed(image, null, top.Error!, clock);
        }
        long fetched = top.Source == ManifestSource.Upstream ? manifest.Bytes.Length : 0;
        long cached = top.Source == ManifestSource.Upstream ? 0 : manifest.Bytes.Length;
        var parsed = ImageManifest.TryParse(manifest.Bytes.Span, manifest.MediaType, out var error);
        if (parsed is { IsIndex: true })
        {
            if (parsed.ForPlatform(platform) is not { } entry)
            {
                var available = string.Join(", ", parsed.Manifests.Select(m => m.Platform ?? "unknown"));
                return new PrewarmFinished(image, manifest.Digest, PrewarmFailure.NotFound, $"{image} has no {platform} image (it has {available})", fetched, cached, clock.Elapsed);
            }
            var child = await resolver.ResolveAsync(route, image.Repository, entry.Digest.ToString(), MediaTypes.ManifestAccept, cancellationToken).ConfigureAwait(false);
            if (child.Manifest is not { } platformManifest)
            {
                return Failed(image, manifest.Digest, child.Error!, clock);
            }
            fetched += child.Source == ManifestSource.Upstream ? platformManifest.Bytes.Length : 0;
            cached += child.Source == ManifestSource.Upstream ? 0 : platformManifest.Bytes.Length;
            manifest = platformManifest;
            parsed = ImageManifest.TryParse(manifest.Bytes.Span, manifest.MediaType, out error);
        }
        if (parsed is null || parsed.IsIndex)
        {
            return new PrewarmFinished(image, manifest.Digest, PrewarmFailure.Upstream, $"{image}: {(parsed is null ? error : "an index inside an index")}", fetched, cached, clock.Elapsed);
        }
        var blobs = parsed.Blobs.ToList();
        await progress.WriteAsync(new PrewarmResolved(image, manifest.Digest, platform, blobs.Count, blobs.Sum(b => b.Size)), cancellationToken).ConfigureAwait(false);
        using var slots = new SemaphoreSlim(ParallelBlobs);
        var results = await Task.WhenAll(blobs.Select(async blob =>
        {
            var kind = blob == parsed.Config ? "config" : "layer";
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
            ? new PrewarmFinished(image, manifest.Digest, PrewarmFailure.None, "", fetched, cached, clock.Elapsed)
            : new PrewarmFinished(image, manifest.Digest, PrewarmFailure.Upstream, $"{failures.Count} of {results.Length} blobs could not be fetched: {failures[0].Error}", fetched, cached, clock.Elapsed);
    }

    private async Task<PrewarmBlob> FetchBlobAsync(ImageReference image, UpstreamRoute route, Descriptor blob, string kind, ChannelWriter<PrewarmProgress> progress, CancellationToken cancellationToken)
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
        while (fill.State == FillState.Running)
        {
            await fill.WaitForProgressAsync(reported, cancellationToken).ConfigureAwait(false);
            if (fill.State != FillState.Running)
            {
                break;
            }
            reported = fill.Written;
            await progress.WriteAsync(Step(reported, PrewarmBlobState.Fetching), cancellationToken).ConfigureAwait(false);
            await Task.Delay(ProgressInterval, cancellationToken).ConfigureAwait(false);
        }
        var ended = await fill.Ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await ReportAsync(ended == FillState.Committed
            ? Step(fill.Written, PrewarmBlobState.Fetched)
            : Step(fill.Written, PrewarmBlobState.Failed, fill.FailureReason ?? "the fill failed")).ConfigureAwait(false);

        async Task<PrewarmBlob> ReportAsync(PrewarmBlob step)
        {
            await progress.WriteAsync(step, cancellationToken).ConfigureAwait(false);
            return step;
        }
    }

    // The registry's own words, when it gave any, say more than the status: Harbor names the policy that refused an image.
    private static PrewarmFinished Failed(ImageReference image, Digest? digest, MirrorError error, Stopwatch clock) =>
        new(image, digest, error.Status == HttpStatusCode.NotFound ? PrewarmFailure.NotFound : PrewarmFailure.Upstream,
            OciErrorBody.TryRead(error.UpstreamBody, out var said) && said is not null ? $"{image}: {error.Message} ({said})" : $"{image}: {error.Message}",
            0, 0, clock.Elapsed);
}
