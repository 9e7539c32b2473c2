using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;

namespace NodeCache.Store.Images;

/// <summary>
/// The blobs an image is made of, as far as the cache knows them: its manifest, and for an index every child manifest,
/// then each manifest's config and layers. Reads cached manifests only (never the upstream) and touches nothing.
/// </summary>
public sealed class ImageBlobs(BlobStore store, TagIndex tags)
{
    /// <summary>The image's root manifest digest: the reference itself, or what the tag was last resolved to here; null for a tag never resolved.</summary>
    public Digest? Root(PinnedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Digest.TryParse(image.Reference, out var digest))
        {
            return digest;
        }
        return tags.TryGet(image.Registry, image.Repository, image.Reference, out var record) ? record.Digest : null;
    }

    /// <summary>Every digest of the image reachable through cached manifests, its root included; empty for a tag never resolved.</summary>
    public IReadOnlySet<Digest> Of(PinnedImage image)
    {
        var found = new HashSet<Digest>();
        if (Root(image) is { } root)
        {
            Walk(root, found);
        }
        return found;
    }

    /// <summary>Every digest reachable from the manifest <paramref name="root"/>, itself included.</summary>
    public IReadOnlySet<Digest> Of(Digest root)
    {
        var found = new HashSet<Digest>();
        Walk(root, found);
        return found;
    }

    private void Walk(Digest manifest, HashSet<Digest> found)
    {
        var pending = new Stack<Digest>();
        pending.Push(manifest);
        while (pending.TryPop(out var digest))
        {
            if (!found.Add(digest) || !store.TryPeek(digest, out var blob) || blob.Size > MediaTypes.MaxManifestSize)
            {
                continue;
            }
            if (Manifest(blob) is not { } parsed)
            {
                continue;
            }
            foreach (var child in parsed.Manifests)
            {
                pending.Push(child.Digest);
            }
            found.UnionWith(parsed.Blobs.Select(b => b.Digest));
        }
    }

    // A layer is not JSON, or not an object with these members: it simply names nothing.
    private static ImageManifest? Manifest(CachedBlob blob)
    {
        try
        {
            return ImageManifest.TryParse(File.ReadAllBytes(blob.Path), blob.MediaType, out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
