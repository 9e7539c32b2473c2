using System.Text.Json;
using NodeCache.Oci;
using NodeCache.Store.Index;

namespace NodeCache.Archive;

/// <summary>
/// Reads an OCI image layout (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>, <c>blobs/sha512/…</c>) into an <see cref="ImportPlan"/>,
/// checking that every blob a manifest names is there with the size the descriptor gives and bytes that hash to its name.
/// An index may lack some of its platforms (an export of one platform); an image may not lack a layer.
/// </summary>
internal static class OciLayoutReader
{
    /// <summary>Where containerd and nodecache write an image's full name.</summary>
    public const string ImageNameAnnotation = "io.containerd.image.name";

    /// <summary>The OCI layout's name for an image: a tag alone (skopeo), or a full name.</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    // An index of indexes of manifests is as deep as real images go.
    private const int MaxDepth = 3;

    public static bool IsLayout(StagedArchive archive) => archive.Contains("oci-layout") && archive.Contains("index.json");

    public static string BlobPath(Digest digest) => $"blobs/{digest.Algorithm.Name}/{digest.Hex}";

    /// <summary>Null when the layout is complete and consistent; otherwise why it cannot be imported.</summary>
    public static async Task<string?> PlanAsync(StagedArchive archive, ImportRequest request, ImportPlan plan, CancellationToken cancellationToken)
    {
        var bytes = await archive.ReadSmallAsync("index.json", cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return $"index.json is larger than {MediaTypes.MaxManifestSize} bytes";
        }
        if (Json(bytes, "index.json", out var error) is not { } document)
        {
            return error;
        }
        using (document)
        {
            if (!document.RootElement.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
            {
                return "index.json has no manifests";
            }
            foreach (var element in manifests.EnumerateArray())
            {
                if (!Descriptor.TryRead(element, out var descriptor, out error))
                {
                    return $"index.json: {error}";
                }
                var blobs = new List<Digest>();
                var (mediaType, failure) = await AddManifestAsync(archive, descriptor, plan, blobs, 0, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    return failure;
                }
                if (Name(descriptor, request, out var repository, out var tag) is { } nameError)
                {
                    return nameError;
                }
                plan.AddImage(new ImportedImage(repository, tag, descriptor.Digest, mediaType!, blobs), descriptor.Size);
            }
        }
        return null;
    }

    private static string? Name(Descriptor descriptor, ImportRequest request, out RepositoryName? repository, out string? tag)
    {
        repository = null;
        tag = null;
        var name = descriptor.Annotations.GetValueOrDefault(ImageNameAnnotation) ?? descriptor.Annotations.GetValueOrDefault(RefNameAnnotation);
        if (name is null)
        {
            return null;
        }
        if (Tag.IsValid(name))
        {
            repository = request.Repository;
            tag = name;
            return repository is null ? $"the archive names {descriptor.Digest} by the tag '{name}' alone: give the repository to import it under" : null;
        }
        return ImageName.TryParse(name, request.Registry, out repository, out tag) ? null : $"'{name}' is not an image name";
    }

    private static async Task<(string? MediaType, string? Error)> AddManifestAsync(
        StagedArchive archive, Descriptor descriptor, ImportPlan plan, List<Digest> blobs, int depth, CancellationToken cancellationToken)
    {
        if (depth >= MaxDepth)
        {
            return (null, $"{descriptor.Digest} nests indexes deeper than {MaxDepth}");
        }
        if (Blob(archive, descriptor, out var file) is { } missing)
        {
            return (null, missing);
        }
        var bytes = await archive.ReadSmallAsync(file.Path, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return (null, $"manifest {descriptor.Digest} is larger than {MediaTypes.MaxManifestSize} bytes");
        }
        if (Json(bytes, $"manifest {descriptor.Digest}", out var error) is not { } document)
        {
            return (null, error);
        }
        using (document)
        {
            var root = document.RootElement;
            var mediaType = descriptor.MediaType
                ?? (root.TryGetProperty("mediaType", out var own) && own.ValueKind == JsonValueKind.String ? own.GetString() : null)
                ?? (root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest)!;
            if (!StoredMediaType.IsStorable(mediaType))
            {
                return (null, $"manifest {descriptor.Digest} has a media type longer than {StoredMediaType.MaxLength} bytes");
            }
            error = MediaTypes.IsIndex(mediaType)
                ? await AddPlatformsAsync(archive, descriptor, root, plan, blobs, depth, cancellationToken).ConfigureAwait(false)
                : AddImageBlobs(archive, descriptor, root, plan, blobs);
            if (error is not null)
            {
                return (null, error);
            }
            plan.Add(new PlannedBlob(descriptor.Digest, descriptor.Size, mediaType, file, null));
            blobs.Add(descriptor.Digest);
            return (mediaType, null);
        }
    }

    private static async Task<string?> AddPlatformsAsync(
        StagedArchive archive, Descriptor index, JsonElement root, ImportPlan plan, List<Digest> blobs, int depth, CancellationToken cancellationToken)
    {
        if (!root.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
        {
            return $"index {index.Digest} has no manifests";
        }
        var present = 0;
        foreach (var element in manifests.EnumerateArray())
        {
            if (!Descriptor.TryRead(element, out var child, out var error))
            {
                return $"index {index.Digest}: {error}";
            }
            if (!archive.Contains(BlobPath(child.Digest)))
            {
                continue;
            }
            var (_, failure) = await AddManifestAsync(archive, child, plan, blobs, depth + 1, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                return failure;
            }
            present++;
        }
        return present == 0 ? $"index {index.Digest} has none of its manifests in the archive" : null;
    }

    private static string? AddImageBlobs(StagedArchive archive, Descriptor manifest, JsonElement root, ImportPlan plan, List<Digest> blobs)
    {
        if (!root.TryGetProperty("config", out var config) || !root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            return $"manifest {manifest.Digest} has no config or no layers";
        }
        foreach (var element in layers.EnumerateArray().Prepend(config))
        {
            if (!Descriptor.TryRead(element, out var descriptor, out var error))
            {
                return $"manifest {manifest.Digest}: {error}";
            }
            if (Blob(archive, descriptor, out var file) is { } missing)
            {
                return missing;
            }
            var mediaType = descriptor.MediaType ?? MediaTypes.OctetStream;
            if (!StoredMediaType.IsStorable(mediaType))
            {
                return $"blob {descriptor.Digest} has a media type longer than {StoredMediaType.MaxLength} bytes";
            }
            plan.Add(new PlannedBlob(descriptor.Digest, descriptor.Size, mediaType, file, null));
            blobs.Add(descriptor.Digest);
        }
        return null;
    }

    // The digest check of every blob: the file named by the digest must be there, of the size given, and hash to that digest.
    private static string? Blob(StagedArchive archive, Descriptor descriptor, out StagedFile file)
    {
        if (!archive.TryGet(BlobPath(descriptor.Digest), out file))
        {
            return $"blob {descriptor.Digest} is missing from the archive";
        }
        if (file.Digest != descriptor.Digest)
        {
            return $"blob {descriptor.Digest} in the archive hashes to {file.Digest}";
        }
        return file.Size != descriptor.Size ? $"blob {descriptor.Digest} has {file.Size} bytes, not the {descriptor.Size} its descriptor gives" : null;
    }

    internal static JsonDocument? Json(byte[] bytes, string what, out string error)
    {
        error = "";
        try
        {
            var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                return document;
            }
            document.Dispose();
        }
        catch (JsonException)
        {
        }
        error = $"{what} is not a JSON document";
        return null;
    }
}
