using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>An image an archive held: its name (when the archive gave it one), its manifest, and every digest it consists of.</summary>
/// <param name="Blobs">The manifest, the manifests of an index's platforms, configs and layers.</param>
public sealed record ImportedImage(RepositoryName? Repository, string? Tag, Digest Manifest, string MediaType, IReadOnlyList<Digest> Blobs);

/// <summary>The outcome of an import: the images, how many blobs and bytes were new to the cache, or why nothing was imported.</summary>
public sealed record ImportResult(IReadOnlyList<ImportedImage> Images, int NewBlobs, long NewBytes, string? Error)
{
    public bool Succeeded => Error is null;

    internal static ImportResult Failed(string error) => new([], 0, 0, error);
}
