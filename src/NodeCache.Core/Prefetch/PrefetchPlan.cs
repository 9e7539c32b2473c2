using NodeCache.Oci;

namespace NodeCache.Prefetch;

/// <summary>One blob a plan fetches: a manifest's config or one of its layers.</summary>
public readonly record struct PlannedBlob(Digest Digest, long Size);

/// <summary>
/// What caching one image for one platform takes: the manifests resolved on the way (an index, then the platform's
/// manifest) and every blob that manifest names, the config first.
/// </summary>
/// <param name="ManifestBytesFetched">Bytes of the manifests that came from the upstream while planning.</param>
/// <param name="ManifestBytesCached">Bytes of the manifests that were in the cache already.</param>
public sealed record PrefetchPlan(
    ImageReference Image, IReadOnlyList<Digest> Manifests, IReadOnlyList<PlannedBlob> Blobs, long ManifestBytesFetched = 0, long ManifestBytesCached = 0)
{
    /// <summary>The manifest the node runs: the last one resolved.</summary>
    public Digest Manifest => Manifests[^1];

    public long TotalBytes => Blobs.Sum(b => b.Size);
}
