using System.Text.Json;

namespace NodeCache.Oci;

/// <summary>
/// A content descriptor from a manifest or an index: what a blob is, its digest and size, for an index entry its platform,
/// and for a foreign layer (a Windows base image's) the URLs it is fetched from instead of the registry.
/// </summary>
public sealed record Descriptor(string MediaType, Digest Digest, long Size, Platform? Platform = null, bool IsForeign = false);

/// <summary>
/// What a pull needs from a manifest's JSON: an image manifest's config and layers, or an index's manifests by platform.
/// Both the OCI and the Docker v2 schemas have these fields under the same names.
/// </summary>
public sealed record ImageManifest(bool IsIndex, Descriptor? Config, IReadOnlyList<Descriptor> Layers, IReadOnlyList<Descriptor> Manifests)
{
    /// <summary>Config first, then layers: the blobs an image manifest names.</summary>
    public IEnumerable<Descriptor> Blobs => Config is null ? Layers : Layers.Prepend(Config);

    /// <summary>The blobs a registry serves: config and layers without the foreign ones, each once.</summary>
    public IEnumerable<Descriptor> RegistryBlobs => Blobs.Where(b => !b.IsForeign).DistinctBy(b => b.Digest);

    /// <summary>The manifest parsed, or null with the reason when the bytes are not a manifest or index.</summary>
    public static ImageManifest? TryParse(ReadOnlySpan<byte> json, string mediaType, out string error)
    {
        error = "";
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            var isIndex = MediaTypes.IsIndex(mediaType) || (root.TryGetProperty("manifests", out _) && !root.TryGetProperty("layers", out _));
            if (isIndex)
            {
                return new ImageManifest(true, null, [], Descriptors(root, "manifests"));
            }
            var config = root.TryGetProperty("config", out var c) ? ReadDescriptor(c) : null;
            return new ImageManifest(false, config, Descriptors(root, "layers"), []);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            error = $"not a manifest or index: {ex.Message}";
            return null;
        }
    }

    /// <summary>The index entry that runs on <paramref name="platform"/>: the exact one if listed, else the first that matches (see <see cref="Platform.Matches"/>).</summary>
    public Descriptor? ForPlatform(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        return Manifests.FirstOrDefault(m => m.Platform is { } p && platform.IsExactly(p))
            ?? Manifests.FirstOrDefault(m => m.Platform is { } p && platform.Matches(p));
    }

    private static Descriptor[] Descriptors(JsonElement root, string name) =>
        root.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array
            ? [.. items.EnumerateArray().Select(ReadDescriptor)]
            : [];

    private static Descriptor ReadDescriptor(JsonElement element)
    {
        Platform? platform = null;
        if (element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            platform = new Platform(
                p.GetProperty("os").GetString() ?? "", p.GetProperty("architecture").GetString() ?? "",
                p.TryGetProperty("variant", out var variant) && variant.GetString() is { Length: > 0 } v ? v : null);
        }
        var size = element.GetProperty("size").GetInt64();
        if (size < 0)
        {
            throw new FormatException($"descriptor size {size} is negative");
        }
        return new Descriptor(
            element.TryGetProperty("mediaType", out var m) ? m.GetString() ?? MediaTypes.OctetStream : MediaTypes.OctetStream,
            Digest.Parse(element.GetProperty("digest").GetString() ?? ""),
            size,
            platform,
            IsForeign: element.TryGetProperty("urls", out _));
    }
}
