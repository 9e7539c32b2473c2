using System.Text.Json;
using NodeCache.Oci;

namespace NodeCache.Store;

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
            foreach (var (child, isManifest) in References(blob.Path))
            {
                if (isManifest)
                {
                    pending.Push(child);
                }
                else
                {
                    found.Add(child);
                }
            }
        }
    }

    // A layer is not JSON, or not an object with these members: it simply names nothing.
    private static List<(Digest Digest, bool IsManifest)> References(string path)
    {
        var references = new List<(Digest, bool)>();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return references;
            }
            var root = document.RootElement;
            if (root.TryGetProperty("manifests", out var manifests) && manifests.ValueKind == JsonValueKind.Array)
            {
                references.AddRange(manifests.EnumerateArray().Select(DigestOf).OfType<Digest>().Select(d => (d, true)));
            }
            if (root.TryGetProperty("config", out var config) && DigestOf(config) is { } configDigest)
            {
                references.Add((configDigest, false));
            }
            if (root.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array)
            {
                references.AddRange(layers.EnumerateArray().Select(DigestOf).OfType<Digest>().Select(d => (d, false)));
            }
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
        }
        return references;
    }

    private static Digest? DigestOf(JsonElement descriptor) =>
        descriptor.ValueKind == JsonValueKind.Object
        && descriptor.TryGetProperty("digest", out var digest)
        && digest.ValueKind == JsonValueKind.String
        && Digest.TryParse(digest.GetString(), out var parsed)
            ? parsed
            : null;
}
