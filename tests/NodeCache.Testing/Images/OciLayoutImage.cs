using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace NodeCache.Testing.Images;

/// <summary>One layer of an image: its blob's digest and size as a registry stores it (compressed), and its media type.</summary>
public sealed record ImageLayer(string Digest, long Size, string MediaType);

/// <summary>
/// One tagged image of an OCI image layout folder, read the way a registry or a runtime reads it: the manifest's layers,
/// the config's user, entrypoint and environment, and what the layers unpack to.
/// </summary>
public sealed class OciLayoutImage
{
    // The image config's keys, as the OCI image spec spells them.
    private const string UserKey = "User";

    private readonly string _layout;

    private OciLayoutImage(string layout, IReadOnlyList<ImageLayer> layers, JsonElement config)
    {
        _layout = layout;
        Layers = layers;
        User = config.TryGetProperty(UserKey, out var user) ? user.GetString() ?? "" : "";
        Entrypoint = Strings(config, "Entrypoint");
        Cmd = Strings(config, "Cmd");
        Env = Strings(config, "Env");
    }

    public IReadOnlyList<ImageLayer> Layers { get; }

    public string User { get; }

    public IReadOnlyList<string> Entrypoint { get; }

    public IReadOnlyList<string> Cmd { get; }

    public IReadOnlyList<string> Env { get; }

    /// <summary>What a pull downloads: the layers' blobs as stored.</summary>
    public long CompressedBytes => Layers.Sum(l => l.Size);

    public static OciLayoutImage Read(string layout, string tag)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var descriptor = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var name) && name.GetString() == tag);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(BlobPath(layout, descriptor.GetProperty("digest").GetString()!)));
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray()
            .Select(l => new ImageLayer(l.GetProperty("digest").GetString()!, l.GetProperty("size").GetInt64(), l.GetProperty("mediaType").GetString()!))
            .ToList();
        using var config = JsonDocument.Parse(File.ReadAllBytes(BlobPath(layout, manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!)));
        var settings = config.RootElement.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c.Clone() : EmptyObject();
        return new OciLayoutImage(layout, layers, settings);
    }

    /// <summary>What the layers unpack to: the sum of their uncompressed tar streams.</summary>
    public long UnpackedBytes() => Layers.Sum(layer =>
    {
        using var stream = OpenLayer(layer);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            total += read;
        }
        return total;
    });

    /// <summary>Every path the layers hold (files, links and folders, without a leading <c>./</c> or <c>/</c>), with its mode bits and owner.</summary>
    public IReadOnlyDictionary<string, (UnixFileMode Mode, int Uid, TarEntryType Type)> Paths()
    {
        var paths = new Dictionary<string, (UnixFileMode, int, TarEntryType)>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            using var stream = OpenLayer(layer);
            using var reader = new TarReader(stream);
            while (reader.GetNextEntry() is { } entry)
            {
                var name = entry.Name.TrimStart('.').Trim('/');
                if (name.Length > 0)
                {
                    paths[name] = (entry.Mode, entry.Uid, entry.EntryType);
                }
            }
        }
        return paths;
    }

    /// <summary>A text file of the image as the topmost layer holding it has it; null when no layer does.</summary>
    public string? ReadText(string path)
    {
        string? text = null;
        foreach (var layer in Layers)
        {
            using var stream = OpenLayer(layer);
            using var reader = new TarReader(stream);
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.Name.TrimStart('.').Trim('/') == path && entry.DataStream is { } data)
                {
                    using var content = new StreamReader(data);
                    text = content.ReadToEnd();
                }
            }
        }
        return text;
    }

    private Stream OpenLayer(ImageLayer layer)
    {
        var file = File.OpenRead(BlobPath(_layout, layer.Digest));
        return layer.MediaType.EndsWith("+gzip", StringComparison.Ordinal) || layer.MediaType.EndsWith(".gzip", StringComparison.Ordinal)
            ? new GZipStream(file, CompressionMode.Decompress)
            : file;
    }

    private static JsonElement EmptyObject()
    {
        using var empty = JsonDocument.Parse("{}");
        return empty.RootElement.Clone();
    }

    private static string BlobPath(string layout, string digest)
    {
        var parts = digest.Split(':', 2);
        return Path.Combine(layout, "blobs", parts[0], parts[1]);
    }

    private static string[] Strings(JsonElement config, string name) =>
        config.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray().Select(v => v.GetString()!)] : [];
}
