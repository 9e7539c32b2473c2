using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;

namespace NodeCache.Store.Images;

/// <summary>A tagged image the cache holds, with the bytes of its blobs that are cached.</summary>
/// <param name="Size">Manifests, configs and layers of this image in the cache; a multi-platform image counts each cached platform.</param>
/// <param name="LastUsed">The latest access to any of those blobs.</param>
public sealed record CachedImage(string Registry, RepositoryName Repository, string Tag, Digest Digest, string MediaType, long Size, int Blobs, DateTimeOffset LastUsed);

/// <summary>The cache's content seen as images: the tag index, followed through each manifest to the blobs it names.</summary>
public sealed class CachedImages(TagIndex tags, BlobIndex blobs, CacheLayout layout)
{
    /// <summary>Every tag whose manifest is cached, sorted by name.</summary>
    public IReadOnlyList<CachedImage> List()
    {
        var images = new List<CachedImage>();
        foreach (var tag in tags.Entries())
        {
            var found = new Dictionary<Digest, BlobRecord>();
            Collect(tag.Record.Digest, found, depth: 0);
            if (found.Count == 0)
            {
                continue;
            }
            images.Add(new CachedImage(tag.Registry, tag.Repository, tag.Tag, tag.Record.Digest, tag.Record.MediaType,
                found.Values.Sum(r => r.Size), found.Count, found.Values.Max(r => r.LastAccessAt)));
        }
        return [.. images.OrderBy(i => i.Registry, StringComparer.Ordinal).ThenBy(i => i.Repository.Value, StringComparer.Ordinal).ThenBy(i => i.Tag, StringComparer.Ordinal)];
    }

    /// <summary>Tags whose manifest is cached, as <see cref="List"/> counts them: a tag whose manifest was evicted is no image.</summary>
    public long Count() => tags.Entries().LongCount(tag => blobs.TryGet(tag.Record.Digest, out var record) && record.State == BlobState.Committed);

    // Reads the index record, not the store's TryGet: listing must not count as a use of the blob.
    private void Collect(Digest digest, Dictionary<Digest, BlobRecord> found, int depth)
    {
        if (found.ContainsKey(digest) || !blobs.TryGet(digest, out var record) || record.State != BlobState.Committed)
        {
            return;
        }
        found[digest] = record;
        if (depth > 1 || record.Size > MediaTypes.MaxManifestSize)
        {
            return;
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(layout.BlobPath(digest));
        }
        catch (IOException)
        {
            return;
        }
        if (ImageManifest.TryParse(bytes, record.MediaType, out _) is not { } manifest)
        {
            return;
        }
        foreach (var child in manifest.Manifests)
        {
            Collect(child.Digest, found, depth + 1);
        }
        foreach (var blob in manifest.Blobs)
        {
            if (!found.ContainsKey(blob.Digest) && blobs.TryGet(blob.Digest, out var blobRecord) && blobRecord.State == BlobState.Committed)
            {
                found[blob.Digest] = blobRecord;
            }
        }
    }
}
