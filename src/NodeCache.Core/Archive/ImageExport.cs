using System.Formats.Tar;
using System.Text.Json;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;

namespace NodeCache.Archive;

/// <summary>
/// Writes cached images as an OCI image layout tar (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/&lt;algorithm&gt;/…</c>), each named
/// in <c>index.json</c> by <c>io.containerd.image.name</c> and <c>org.opencontainers.image.ref.name</c>, so that
/// <see cref="ImageImport"/>, <c>ctr images import</c> and skopeo read it. Manifests are written as cached, byte for byte,
/// so their digests are unchanged. Of a multi-platform index, the platforms the cache holds completely are written.
/// </summary>
public sealed class ImageExport(BlobStore store, TagIndex tags)
{
    // Entries carry a fixed time, so exporting the same images twice writes the same tar.
    private static readonly DateTimeOffset EntryTime = DateTimeOffset.UnixEpoch;
    private static readonly UnixFileMode EntryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private const int MaxDepth = 3;

    /// <summary>
    /// Checks that every image is cached before the first byte is written; on a failure after that (a blob evicted while
    /// it is written) the result says so and the caller discards <paramref name="output"/>.
    /// </summary>
    public async Task<ExportResult> ExportAsync(IReadOnlyList<ExportReference> references, Stream output, IProgress<ArchiveProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(output);
        var images = new List<(ExportReference Reference, CachedBlob Manifest, string? Tag)>();
        var blobs = new List<CachedBlob>();
        foreach (var reference in references)
        {
            string? tag = null;
            if (!Digest.TryParse(reference.Reference, out var digest))
            {
                if (!tags.TryGet(reference.Registry, reference.Repository, reference.Reference, out var record))
                {
                    return ExportResult.Failed($"{reference} is not cached");
                }
                (digest, tag) = (record.Digest, reference.Reference);
            }
            var collected = new List<CachedBlob>();
            if (await CollectAsync(digest, collected, 0, cancellationToken).ConfigureAwait(false) is { } error)
            {
                return ExportResult.Failed($"{reference}: {error}");
            }
            images.Add((reference, collected[^1], tag));
            foreach (var blob in collected.Where(b => !blobs.Exists(known => known.Digest == b.Digest)))
            {
                blobs.Add(blob);
            }
        }
        try
        {
            await WriteAsync(output, images, blobs, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException ex)
        {
            return ExportResult.Failed($"a blob left the cache while it was written: {ex.Message}");
        }
        return new ExportResult(images.Count, blobs.Count, blobs.Sum(b => b.Size), null);
    }

    // What the manifest names, then the manifest itself; null when it is all in the cache.
    private async Task<string?> CollectAsync(Digest digest, List<CachedBlob> collected, int depth, CancellationToken cancellationToken)
    {
        if (depth >= MaxDepth || !store.TryGet(digest, out var manifest))
        {
            return $"manifest {digest} is not cached";
        }
        if (manifest.Size > MediaTypes.MaxManifestSize)
        {
            return $"{digest} is not a manifest";
        }
        using var document = OciLayoutReader.Json(await File.ReadAllBytesAsync(manifest.Path, cancellationToken).ConfigureAwait(false), $"manifest {digest}", out var jsonError);
        if (document is null)
        {
            return jsonError;
        }
        var root = document.RootElement;
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            var platforms = 0;
            foreach (var element in root.TryGetProperty("manifests", out var children) && children.ValueKind == JsonValueKind.Array ? children.EnumerateArray() : default)
            {
                var platform = new List<CachedBlob>();
                if (Descriptor.TryRead(element, out var child, out _) && await CollectAsync(child.Digest, platform, depth + 1, cancellationToken).ConfigureAwait(false) is null)
                {
                    collected.AddRange(platform);
                    platforms++;
                }
            }
            if (platforms == 0)
            {
                return $"no platform of index {digest} is completely cached";
            }
        }
        else
        {
            if (!root.TryGetProperty("config", out var config) || !root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
            {
                return $"manifest {digest} has no config or no layers";
            }
            foreach (var element in layers.EnumerateArray().Prepend(config))
            {
                if (!Descriptor.TryRead(element, out var descriptor, out var error))
                {
                    return $"manifest {digest}: {error}";
                }
                if (!store.TryGet(descriptor.Digest, out var blob))
                {
                    return $"blob {descriptor.Digest} is not cached";
                }
                collected.Add(blob);
            }
        }
        collected.Add(manifest);
        return null;
    }

    private static async Task WriteAsync(
        Stream output, List<(ExportReference Reference, CachedBlob Manifest, string? Tag)> images, List<CachedBlob> blobs, IProgress<ArchiveProgress>? progress, CancellationToken cancellationToken)
    {
        var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await using (tar.ConfigureAwait(false))
        {
            await WriteEntryAsync(tar, "oci-layout", new MemoryStream("{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray()), cancellationToken).ConfigureAwait(false);
            await WriteEntryAsync(tar, "index.json", new MemoryStream(Index(images)), cancellationToken).ConfigureAwait(false);
            var written = 0;
            long bytes = 0;
            foreach (var blob in blobs)
            {
                var file = new FileStream(blob.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, useAsync: true);
                await WriteEntryAsync(tar, OciLayoutReader.BlobPath(blob.Digest), file, cancellationToken).ConfigureAwait(false);
                bytes += blob.Size;
                progress?.Report(new ArchiveProgress("writing", ++written, bytes));
            }
        }
    }

    private static async Task WriteEntryAsync(TarWriter tar, string name, Stream data, CancellationToken cancellationToken)
    {
        await using (data.ConfigureAwait(false))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, ModificationTime = EntryTime, Mode = EntryMode };
            await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte[] Index(List<(ExportReference Reference, CachedBlob Manifest, string? Tag)> images)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", 2);
            json.WriteString("mediaType", MediaTypes.OciIndex);
            json.WriteStartArray("manifests");
            foreach (var (reference, manifest, tag) in images)
            {
                json.WriteStartObject();
                Descriptor.WriteFields(json, manifest.MediaType, manifest.Digest, manifest.Size);
                json.WriteStartObject("annotations");
                json.WriteString(OciLayoutReader.ImageNameAnnotation, tag is null ? $"{reference.Registry}/{reference.Repository}@{manifest.Digest}" : reference.ToString());
                if (tag is not null)
                {
                    json.WriteString(OciLayoutReader.RefNameAnnotation, tag);
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
