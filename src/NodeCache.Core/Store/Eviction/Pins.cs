using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Store.Images;

namespace NodeCache.Store.Eviction;

/// <summary>
/// Digests and images that eviction must never remove, kept in <c>pins.json</c> in the cache folder so they survive
/// restarts. An image pin keeps its manifest, every child manifest of an index, and their configs and layers, as far as
/// they are cached (resolved again at every eviction pass, so layers fetched after the pin are kept too). A tag pin
/// follows what the tag was last resolved to on this node. Safe to call from any thread.
/// </summary>
public sealed partial class Pins
{
    public const string FileName = "pins.json";

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<Digest> _digests = [];
    private readonly HashSet<PinnedImage> _images = [];

    private Pins(string path, ILogger logger) => (_path, _logger) = (path, logger);

    /// <summary>Reads the pins kept in <paramref name="cacheRoot"/>; a missing file is no pins, an unreadable one is logged and kept aside.</summary>
    public static Pins Load(string cacheRoot, ILogger logger)
    {
        var pins = new Pins(Path.Combine(cacheRoot, FileName), logger);
        pins.Read();
        return pins;
    }

    public IReadOnlyCollection<Digest> Digests
    {
        get
        {
            lock (_gate)
            {
                return [.. _digests];
            }
        }
    }

    public IReadOnlyCollection<PinnedImage> Images
    {
        get
        {
            lock (_gate)
            {
                return [.. _images];
            }
        }
    }

    /// <summary>False when the digest was pinned already.</summary>
    public bool Pin(Digest digest) => Change(() => _digests.Add(digest));

    /// <summary>False when the digest was not pinned.</summary>
    public bool Unpin(Digest digest) => Change(() => _digests.Remove(digest));

    /// <summary>False when the image was pinned already (by the same reference).</summary>
    public bool Pin(PinnedImage image) => Change(() => _images.Add(image));

    /// <summary>False when the image was not pinned (by the same reference).</summary>
    public bool Unpin(PinnedImage image) => Change(() => _images.Remove(image));

    /// <summary>Every digest pinned directly or through an image, resolved through the cached manifests now.</summary>
    public IReadOnlySet<Digest> Resolve(ImageBlobs images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var pinned = new HashSet<Digest>(Digests);
        foreach (var image in Images)
        {
            pinned.UnionWith(images.Of(image));
        }
        // A pinned digest may itself be a manifest: keep what it names as well.
        foreach (var digest in Digests)
        {
            pinned.UnionWith(images.Of(digest));
        }
        return pinned;
    }

    private bool Change(Func<bool> change)
    {
        lock (_gate)
        {
            if (!change())
            {
                return false;
            }
            Write();
            return true;
        }
    }

    // Written aside, flushed and renamed over the old file: a crash leaves the old pins or the new ones, never half of either.
    private void Write()
    {
        var document = new PinsDocument(
            [.. _digests.Select(d => d.ToString()).Order(StringComparer.Ordinal)],
            [.. _images.Select(i => new PinnedImageDocument(i.Registry, i.Repository.Value, i.Reference)).OrderBy(i => i.ToString(), StringComparer.Ordinal)]);
        var temp = _path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, document, PinsJson.Default.PinsDocument);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, _path, overwrite: true);
    }

    private void Read()
    {
        if (!File.Exists(_path))
        {
            return;
        }
        try
        {
            using var stream = File.OpenRead(_path);
            var document = JsonSerializer.Deserialize(stream, PinsJson.Default.PinsDocument) ?? new PinsDocument([], []);
            foreach (var text in document.Digests ?? [])
            {
                if (Digest.TryParse(text, out var digest))
                {
                    _digests.Add(digest);
                }
            }
            foreach (var image in document.Images ?? [])
            {
                if (RegistryHost.IsValid(image.Registry) && RepositoryName.TryParse(image.Repository, out var repository)
                    && (Digest.TryParse(image.Reference, out _) || Tag.IsValid(image.Reference)))
                {
                    _images.Add(new PinnedImage(image.Registry, repository, image.Reference));
                }
            }
            _logger.LogInformation("Pins: {Digests} digests and {Images} images", _digests.Count, _images.Count);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            var aside = _path + ".unreadable";
            _logger.LogError(e, "The pins in {Path} cannot be read; moved to {Aside}, starting with no pins", _path, aside);
            File.Move(_path, aside, overwrite: true);
        }
    }

    private sealed record PinsDocument(
        [property: JsonPropertyName("digests")] string[]? Digests,
        [property: JsonPropertyName("images")] PinnedImageDocument[]? Images);

    private sealed record PinnedImageDocument(
        [property: JsonPropertyName("registry")] string Registry,
        [property: JsonPropertyName("repository")] string Repository,
        [property: JsonPropertyName("reference")] string Reference);

    // Generated at build time, so the file is read and written the same way in the trimmed image.
    [JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
    [JsonSerializable(typeof(PinsDocument))]
    private sealed partial class PinsJson : JsonSerializerContext;
}
