using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Text;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A media type as the index stores it: a one-byte code for the types registries serve all day, the UTF-8 text inline for any other.</summary>
internal struct StoredMediaType
{
    /// <summary>RFC 6838 caps type and subtype names at 127 characters each, so 255 bytes hold any valid media type.</summary>
    public const int MaxLength = 255;

    // The codes are persisted in the index: add new types at the end, never reorder, remove or reuse one.
    // Index 0 is not a code: it marks text stored inline.
    private static readonly string[] Known =
    [
        "",
        MediaTypes.OciManifest,
        MediaTypes.OciIndex,
        MediaTypes.DockerManifest,
        MediaTypes.DockerManifestList,
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.empty.v1+json",
        MediaTypes.OctetStream,
    ];

    private static readonly FrozenDictionary<string, byte> Codes =
        Known.Index().Skip(1).ToFrozenDictionary(known => known.Item, known => (byte)known.Index, StringComparer.Ordinal);

    private byte _code;
    private byte _length;
    private Text _text;

    /// <summary>Stores <paramref name="mediaType"/> exactly; one longer than <see cref="MaxLength"/> UTF-8 bytes is refused, never truncated.</summary>
    public static StoredMediaType From(string mediaType)
    {
        ArgumentNullException.ThrowIfNull(mediaType);
        var stored = default(StoredMediaType);
        if (Codes.TryGetValue(mediaType, out stored._code))
        {
            return stored;
        }
        if (!Encoding.UTF8.TryGetBytes(mediaType, stored._text, out var length))
        {
            throw new ArgumentException($"media types are stored up to {MaxLength} UTF-8 bytes; this one has {Encoding.UTF8.GetByteCount(mediaType)}", nameof(mediaType));
        }
        stored._length = (byte)length;
        return stored;
    }

    public static bool IsStorable(string mediaType) =>
        Codes.ContainsKey(mediaType) || Encoding.UTF8.GetByteCount(mediaType) <= MaxLength;

    public readonly override string ToString()
    {
        if (_code == 0)
        {
            ReadOnlySpan<byte> text = _text;
            return Encoding.UTF8.GetString(text[.._length]);
        }
        // A code this build does not know was written by a newer one (a downgrade): serving the bytes as opaque beats failing the request.
        return _code < Known.Length ? Known[_code] : MediaTypes.OctetStream;
    }

    [InlineArray(MaxLength)]
    private struct Text
    {
        private byte _first;
    }
}
