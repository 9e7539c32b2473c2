using NodeCache.Oci;

namespace NodeCache.Prefetch;

/// <summary>One blob a plan fetches: a manifest's config or one of its layers.</summary>
public readonly record struct PlannedBlob(Digest Digest, long Size);

/// <summary>
/// What caching one image for one platform takes: the manifests resolved on the way (an index, then the platform's
/// manifest) and every blob that manifest names.
/// </summary>
public sealed record PrefetchPlan(ImageReference Image, IReadOnlyList<Digest> Manifests, IReadOnlyList<PlannedBlob> Blobs)
{
    /// <summary>The manifest the node runs: the last one resolved.</summary>
    public Digest Manifest => Manifests[^1];

    public long TotalBytes => Blobs.Sum(b => b.Size);
}
