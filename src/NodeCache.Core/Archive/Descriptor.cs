using System.Text.Json;
using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>An OCI content descriptor: what a manifest or index points at, and the annotations that name it.</summary>
internal sealed record Descriptor(string? MediaType, Digest Digest, long Size, IReadOnlyDictionary<string, string> Annotations)
{
    /// <summary>Writes the three fields every descriptor has into the JSON object being written.</summary>
    public static void WriteFields(Utf8JsonWriter json, string mediaType, Digest digest, long size)
    {
        json.WriteString("mediaType", mediaType);
        json.WriteString("digest", digest.ToString());
        json.WriteNumber("size", size);
    }

    /// <summary>False for a descriptor without a size or a digest the cache can verify (sha256 or sha512).</summary>
    public static bool TryRead(JsonElement element, out Descriptor descriptor, out string error)
    {
        descriptor = null!;
        error = "";
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("digest", out var digestText) || digestText.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("size", out var sizeValue) || !sizeValue.TryGetInt64(out var size) || size < 0)
        {
            error = "a descriptor without a digest or a size";
            return false;
        }
        if (!Digest.TryParse(digestText.GetString(), out var digest))
        {
            error = $"descriptor digest '{digestText.GetString()}' is not a digest the cache stores ({Digest.Forms})";
            return false;
        }
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element.TryGetProperty("annotations", out var map) && map.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind == JsonValueKind.String)
                {
                    annotations[entry.Name] = entry.Value.GetString()!;
                }
            }
        }
        var mediaType = element.TryGetProperty("mediaType", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
        descriptor = new Descriptor(mediaType, digest, size, annotations);
        return true;
    }
}
