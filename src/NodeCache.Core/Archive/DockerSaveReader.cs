using System.IO.Compression;
using System.Text.Json;
using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>
/// Reads a <c>docker save</c> tarball (<c>manifest.json</c> naming each image's config file, layer files and tags) into an
/// <see cref="ImportPlan"/>, making for each image the OCI manifest that names exactly the bytes stored: docker writes
/// layers as plain tars, so the layer's digest is the SHA-256 of the tar as it is, and its media type says it is uncompressed.
/// Every layer is checked against the config's <c>diff_ids</c> (gzip'd layers by hashing them uncompressed).
/// </summary>
internal static class DockerSaveReader
{
    private const string ConfigMediaType = "application/vnd.oci.image.config.v1+json";
    private const string TarLayer = "application/vnd.oci.image.layer.v1.tar";
    private const string GzipLayer = TarLayer + "+gzip";
    private const string ZstdLayer = TarLayer + "+zstd";

    public static bool IsDockerSave(StagedArchive archive) => archive.Contains("manifest.json");

    /// <summary>Null when every image is complete and consistent; otherwise why the archive cannot be imported.</summary>
    public static async Task<string?> PlanAsync(StagedArchive archive, ImportRequest request, ImportPlan plan, CancellationToken cancellationToken)
    {
        var bytes = await archive.ReadSmallAsync("manifest.json", cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return $"manifest.json is larger than {MediaTypes.MaxManifestSize} bytes";
        }
        if (OciLayoutReader.Json(bytes, "manifest.json", out var error) is not { } document)
        {
            return error;
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return "manifest.json is not a list of images";
            }
            foreach (var image in document.RootElement.EnumerateArray())
            {
                error = await AddImageAsync(archive, image, request, plan, cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }
            }
        }
        return null;
    }

    private static async Task<string?> AddImageAsync(StagedArchive archive, JsonElement image, ImportRequest request, ImportPlan plan, CancellationToken cancellationToken)
    {
        if (image.ValueKind != JsonValueKind.Object
            || !image.TryGetProperty("Config", out var configName) || configName.ValueKind != JsonValueKind.String
            || !image.TryGetProperty("Layers", out var layerNames) || layerNames.ValueKind != JsonValueKind.Array)
        {
            return "manifest.json: an image without Config or Layers";
        }
        var configPath = configName.GetString()!;
        if (!archive.TryGet(configPath, out var config) || await archive.ReadSmallAsync(configPath, cancellationToken).ConfigureAwait(false) is not { } configBytes)
        {
            return $"config {configPath} is missing from the archive or too large";
        }
        // docker names the config by its digest ("<hex>.json" or "blobs/sha256/<hex>"): a name that is a digest must be the right one.
        var stem = Path.GetFileNameWithoutExtension(configPath);
        if (Digest.TryParse($"{config.Digest.Algorithm.Name}:{stem}", out var named) && named != config.Digest)
        {
            return $"config {configPath} hashes to {config.Digest}";
        }
        if (DiffIds(configBytes, configPath, out var error) is not { } diffIds)
        {
            return error;
        }
        if (diffIds.Count != layerNames.GetArrayLength())
        {
            return $"config {configPath} names {diffIds.Count} layers, manifest.json {layerNames.GetArrayLength()}";
        }
        var layers = new List<(StagedFile File, string MediaType)>();
        foreach (var (element, diffId) in layerNames.EnumerateArray().Zip(diffIds))
        {
            var layerPath = element.GetString() ?? "";
            if (!archive.TryGet(layerPath, out var layer))
            {
                return $"layer {layerPath} is missing from the archive";
            }
            var mediaType = await LayerMediaTypeAsync(layer, cancellationToken).ConfigureAwait(false);
            var uncompressed = mediaType switch
            {
                TarLayer or GzipLayer => await UncompressedDigestAsync(layer, mediaType == GzipLayer, diffId.Algorithm, cancellationToken).ConfigureAwait(false),
                // .NET has no zstd decoder: such a layer is stored by its own digest, unchecked against diff_ids.
                _ => diffId,
            };
            if (uncompressed != diffId)
            {
                return $"layer {layerPath} does not match the diff_id {diffId} its config gives";
            }
            layers.Add((layer, mediaType));
        }
        var manifest = Manifest(config, layers);
        var digest = Digest.Compute(manifest);
        var blobs = new List<Digest> { config.Digest };
        plan.Add(new PlannedBlob(config.Digest, config.Size, ConfigMediaType, config, null));
        foreach (var (layer, mediaType) in layers)
        {
            plan.Add(new PlannedBlob(layer.Digest, layer.Size, mediaType, layer, null));
            blobs.Add(layer.Digest);
        }
        plan.Add(new PlannedBlob(digest, manifest.Length, MediaTypes.OciManifest, null, manifest));
        blobs.Add(digest);
        var tags = image.TryGetProperty("RepoTags", out var repoTags) && repoTags.ValueKind == JsonValueKind.Array
            ? repoTags.EnumerateArray().Select(t => t.GetString()).OfType<string>().ToList()
            : [];
        if (tags.Count == 0)
        {
            plan.AddImage(new ImportedImage(null, null, digest, MediaTypes.OciManifest, blobs), manifest.Length);
        }
        foreach (var name in tags)
        {
            if (!ImageName.TryParse(name, request.Registry, out var repository, out var tag))
            {
                return $"'{name}' is not an image name";
            }
            plan.AddImage(new ImportedImage(repository, tag, digest, MediaTypes.OciManifest, blobs), manifest.Length);
        }
        return null;
    }

    private static List<Digest>? DiffIds(byte[] config, string path, out string error)
    {
        error = $"config {path} has no rootfs.diff_ids";
        using var document = OciLayoutReader.Json(config, $"config {path}", out var jsonError);
        if (document is null)
        {
            error = jsonError;
            return null;
        }
        if (!document.RootElement.TryGetProperty("rootfs", out var rootfs) || !rootfs.TryGetProperty("diff_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var digests = new List<Digest>();
        foreach (var id in ids.EnumerateArray())
        {
            if (!Digest.TryParse(id.GetString(), out var digest))
            {
                error = $"config {path} has a diff_id that is not a digest ({Digest.Forms})";
                return null;
            }
            digests.Add(digest);
        }
        return digests;
    }

    // The OCI manifest for the image: deterministic, so importing the same archive twice gives the same digest.
    private static byte[] Manifest(StagedFile config, List<(StagedFile File, string MediaType)> layers)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", 2);
            json.WriteString("mediaType", MediaTypes.OciManifest);
            json.WritePropertyName("config");
            WriteDescriptor(json, ConfigMediaType, config);
            json.WriteStartArray("layers");
            foreach (var (layer, mediaType) in layers)
            {
                WriteDescriptor(json, mediaType, layer);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteDescriptor(Utf8JsonWriter json, string mediaType, StagedFile file)
    {
        json.WriteStartObject();
        Descriptor.WriteFields(json, mediaType, file.Digest, file.Size);
        json.WriteEndObject();
    }

    private static async Task<string> LayerMediaTypeAsync(StagedFile layer, CancellationToken cancellationToken)
    {
        var magic = new byte[4];
        var stream = File.OpenRead(layer.TempPath);
        await using (stream.ConfigureAwait(false))
        {
            var read = await stream.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return read switch
            {
                >= 2 when magic[0] == 0x1f && magic[1] == 0x8b => GzipLayer,
                4 when magic is [0x28, 0xb5, 0x2f, 0xfd] => ZstdLayer,
                _ => TarLayer,
            };
        }
    }

    // A diff_id is the digest of the uncompressed tar by its own algorithm; a plain tar hashed by that algorithm while it was
    // staged is not read again.
    private static async Task<Digest> UncompressedDigestAsync(StagedFile layer, bool gzipped, DigestAlgorithm algorithm, CancellationToken cancellationToken)
    {
        if (!gzipped && layer.Digest.Algorithm == algorithm)
        {
            return layer.Digest;
        }
        var file = new FileStream(layer.TempPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            if (!gzipped)
            {
                return await Digest.ComputeAsync(algorithm, file, cancellationToken).ConfigureAwait(false);
            }
            var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using (gzip.ConfigureAwait(false))
            {
                return await Digest.ComputeAsync(algorithm, gzip, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
