using System.Runtime.InteropServices;
using System.Text.Json;

namespace NodeCache.Oci;

/// <summary>A content descriptor from a manifest or an index: what a blob is, its digest and size, and for an index entry its platform.</summary>
public sealed record Descriptor(string MediaType, Digest Digest, long Size, string? Platform = null);

/// <summary>
/// What a pull needs from a manifest's JSON: an image manifest's config and layers, or an index's manifests by platform.
/// Both the OCI and the Docker v2 schemas have these fields under the same names.
/// </summary>
public sealed record ImageManifest(bool IsIndex, Descriptor? Config, IReadOnlyList<Descriptor> Layers, IReadOnlyList<Descriptor> Manifests)
{
    /// <summary>The platform this process runs on, as an index names platforms: <c>linux/amd64</c>, <c>linux/arm64</c>.</summary>
    public static string CurrentPlatform { get; } = "linux/" + RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        Architecture.X86 => "386",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>Config first, then layers: the blobs an image manifest names.</summary>
    public IEnumerable<Descriptor> Blobs => Config is null ? Layers : Layers.Prepend(Config);

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

    /// <summary>The index entry for <paramref name="platform"/> (<c>os/arch[/variant]</c>); a platform without variant matches any variant.</summary>
    public Descriptor? ForPlatform(string platform) =>
        Manifests.FirstOrDefault(m => m.Platform == platform)
        ?? Manifests.FirstOrDefault(m => m.Platform is { } p && p.StartsWith(platform + "/", StringComparison.Ordinal));

    private static Descriptor[] Descriptors(JsonElement root, string name) =>
        root.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array
            ? [.. items.EnumerateArray().Select(ReadDescriptor)]
            : [];

    private static Descriptor ReadDescriptor(JsonElement element)
    {
        string? platform = null;
        if (element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            platform = $"{p.GetProperty("os").GetString()}/{p.GetProperty("architecture").GetString()}";
            if (p.TryGetProperty("variant", out var variant) && variant.GetString() is { Length: > 0 } v)
            {
                platform += "/" + v;
            }
        }
        return new Descriptor(
            element.TryGetProperty("mediaType", out var m) ? m.GetString() ?? MediaTypes.OctetStream : MediaTypes.OctetStream,
            Digest.Parse(element.GetProperty("digest").GetString() ?? ""),
            element.GetProperty("size").GetInt64(),
            platform);
    }
}
