using NodeCache.Testing;

namespace NodeCache.PerfHarness.Workload;

/// <summary>
/// Everything the upstream registry holds for the run: warm blobs, one fresh blob per repetition for each cold scenario
/// (a blob is cold only once per cache), a small image for manifest load, and a five-layer image for containerd.
/// </summary>
internal sealed class UpstreamContent
{
    public const string BlobRepository = "perf/blobs";
    public const string ManifestRepository = "perf/app";
    public const string ManifestTag = "v1";
    public const string PullRepository = "perf/pull";
    public const string PullTag = "v1";

    private UpstreamContent(
        BlobFile primer,
        BlobFile? bigBlob,
        IReadOnlyList<BlobFile> smallBlobs,
        IReadOnlyList<BlobFile> coldBlobs,
        IReadOnlyList<BlobFile> stampedeBlobs,
        BuiltImage? manifestImage,
        BuiltImage? pullImage)
    {
        Primer = primer;
        BigBlob = bigBlob;
        SmallBlobs = smallBlobs;
        ColdBlobs = coldBlobs;
        StampedeBlobs = stampedeBlobs;
        ManifestImage = manifestImage;
        PullImage = pullImage;
    }

    /// <summary>A small blob each cache fetches once before any scenario, so no scenario's first figure pays for JIT and first connections.</summary>
    public BlobFile Primer { get; }

    /// <summary>Null when the warm scenario does not run.</summary>
    public BlobFile? BigBlob { get; }

    public IReadOnlyList<BlobFile> SmallBlobs { get; }

    /// <summary>One per repetition. The file paths are gone once pushed: the registry holds the bytes.</summary>
    public IReadOnlyList<BlobFile> ColdBlobs { get; }

    public IReadOnlyList<BlobFile> StampedeBlobs { get; }

    public BuiltImage? ManifestImage { get; }

    public BuiltImage? PullImage { get; }

    public static async Task<UpstreamContent> PushAsync(RegistryProcess upstream, HarnessSettings settings, Action<string> progress, CancellationToken cancellationToken)
    {
        var pusher = OciPusher.For(upstream);
        using var scratch = TempFolder.Create("perf-blobs");
        var seed = 1000;

        async Task<BlobFile> PushBlobAsync(long size)
        {
            var blob = await RandomBlob.WriteAsync(scratch.Path, seed++, size, cancellationToken);
            await pusher.PushBlobAsync(BlobRepository, blob, cancellationToken);
            // The registry has its own copy; keeping ours would only double the disk the run needs.
            File.Delete(blob.Path);
            return blob;
        }

        async Task<IReadOnlyList<BlobFile>> PushBlobsAsync(int count, long size)
        {
            var blobs = new List<BlobFile>();
            for (var i = 0; i < count; i++)
            {
                blobs.Add(await PushBlobAsync(size));
            }
            return blobs;
        }

        var primer = await PushBlobAsync(OciImageBuilder.MiB);
        var needsWarm = settings.Runs("warm");
        var big = needsWarm ? await PushBlobAsync(settings.BigBlobSize) : null;
        var small = needsWarm ? await PushBlobsAsync(HarnessSettings.SmallBlobCount, HarnessSettings.SmallBlobSize) : [];
        if (needsWarm)
        {
            progress($"pushed the warm blobs ({Mebibytes(settings.BigBlobSize + (HarnessSettings.SmallBlobCount * HarnessSettings.SmallBlobSize))} MiB)");
        }
        var cold = settings.Runs("cold") ? await PushBlobsAsync(settings.Repetitions, settings.ColdBlobSize) : [];
        var stampede = settings.Runs("stampede") ? await PushBlobsAsync(settings.Repetitions, HarnessSettings.StampedeBlobSize) : [];
        if (cold.Count + stampede.Count > 0)
        {
            progress("pushed the cold blobs");
        }

        using var builder = new OciImageBuilder(seed: 77);
        BuiltImage? manifestImage = null;
        if (settings.Runs("manifests"))
        {
            manifestImage = await builder.BuildAsync(ManifestRepository, ManifestTag, [4 * OciImageBuilder.KiB, 8 * OciImageBuilder.KiB], cancellationToken: cancellationToken);
            await pusher.PushAsync(manifestImage, cancellationToken);
        }
        BuiltImage? pullImage = null;
        if (settings.Runs("pull"))
        {
            pullImage = await builder.BuildAsync(PullRepository, PullTag, settings.PullLayerSizes, cancellationToken: cancellationToken);
            await pusher.PushAsync(pullImage, cancellationToken);
            progress($"pushed the pull image ({Mebibytes(pullImage.Blobs.Sum(b => b.Size))} MiB in {pullImage.Layers.Count} layers)");
        }
        return new UpstreamContent(primer, big, small, cold, stampede, manifestImage, pullImage);
    }

    public static long Mebibytes(long bytes) => bytes / OciImageBuilder.MiB;
}
