using System.Globalization;
using System.Text.Json;
using NodeCache.Oci;

namespace NodeCache.Mirror;

/// <summary>
/// A tag list as the spec has it: under the name the client asked for, in lexical order, and one page of <c>n</c> tags
/// after <c>last</c> with a <c>Link</c> to the next. An upstream that pages by itself is trusted with its pages; one that
/// ignores <c>n</c> and <c>last</c> (the distribution registry 2.8 does) has them applied here.
/// </summary>
public static class TagListPage
{
    /// <summary>True when the body served must differ from the upstream's; <paramref name="page"/> is then that body, and <paramref name="next"/> the next page's path when there is one.</summary>
    public static bool TryServe(ReadOnlySpan<byte> upstreamBody, RepositoryName repository, ListingRequest request, bool upstreamPaged, out byte[] page, out string? next)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(request);
        page = [];
        next = null;
        if (!TryRead(upstreamBody, out var name, out var tags))
        {
            return false;
        }
        var served = tags;
        var more = false;
        if (!upstreamPaged)
        {
            IEnumerable<string> window = tags.Order(StringComparer.Ordinal);
            if (request.Parameter("last") is { } last)
            {
                window = window.Where(t => string.CompareOrdinal(t, last) > 0);
            }
            served = [.. window];
            if (int.TryParse(request.Parameter("n"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && served.Count > n)
            {
                more = n > 0;
                served = served.GetRange(0, n);
            }
        }
        if (name == repository.Value && served.SequenceEqual(tags, StringComparer.Ordinal))
        {
            return false;
        }
        page = Write(repository.Value, served);
        if (more)
        {
            next = $"/v2/{repository}/tags/list?n={served.Count}&last={Uri.EscapeDataString(served[^1])}";
        }
        return true;
    }

    private static bool TryRead(ReadOnlySpan<byte> body, out string? name, out List<string> tags)
    {
        name = null;
        tags = [];
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("tags", out var list) || list.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
            {
                return false;
            }
            name = root.TryGetProperty("name", out var named) && named.ValueKind == JsonValueKind.String ? named.GetString() : null;
            if (list.ValueKind == JsonValueKind.Array)
            {
                foreach (var tag in list.EnumerateArray())
                {
                    if (tag.ValueKind != JsonValueKind.String)
                    {
                        return false;
                    }
                    tags.Add(tag.GetString()!);
                }
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] Write(string name, IReadOnlyList<string> tags)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteStartArray("tags");
            foreach (var tag in tags)
            {
                json.WriteStringValue(tag);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
