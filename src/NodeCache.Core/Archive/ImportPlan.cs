using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>A blob an import will commit: staged from the archive, or made by the import (a manifest for a docker save image).</summary>
internal sealed record PlannedBlob(Digest Digest, long Size, string MediaType, StagedFile? Staged, byte[]? Bytes);

/// <summary>A tag an import will register once every blob is in the cache.</summary>
internal sealed record PlannedTag(RepositoryName Repository, string Tag, Digest Digest, string MediaType, long Size);

/// <summary>Everything an archive holds, verified, in the order it may be committed: what a manifest names comes before it.</summary>
internal sealed class ImportPlan
{
    private readonly Dictionary<Digest, PlannedBlob> _byDigest = [];
    private readonly List<PlannedBlob> _blobs = [];

    public IReadOnlyList<PlannedBlob> Blobs => _blobs;

    public List<PlannedTag> Tags { get; } = [];

    public List<ImportedImage> Images { get; } = [];

    public void Add(PlannedBlob blob)
    {
        if (_byDigest.TryAdd(blob.Digest, blob))
        {
            _blobs.Add(blob);
        }
    }

    /// <summary>Adds a named image, registering its tag when it has one.</summary>
    public void AddImage(ImportedImage image, long manifestSize)
    {
        Images.Add(image);
        if (image is { Repository: { } repository, Tag: { } tag })
        {
            Tags.Add(new PlannedTag(repository, tag, image.Manifest, image.MediaType, manifestSize));
        }
    }
}
