namespace NodeCache.Oci;

/// <summary>One satisfiable byte range of a blob, inclusive at both ends, as HTTP's <c>Range: bytes=first-last</c>.</summary>
public readonly record struct ByteRange(long First, long Last)
{
    public long Length => Last - First + 1;

    /// <summary><c>bytes first-last/total</c>, the Content-Range of a 206.</summary>
    public string ToContentRange(long total) => $"bytes {First}-{Last}/{total}";
}

/// <summary>What a Range header asks of a blob of known size.</summary>
public enum RangeRequest
{
    /// <summary>No Range header, or one this server ignores as RFC 9110 allows (another unit, several ranges): serve the whole blob.</summary>
    Whole,

    /// <summary>One range inside the blob: serve it as a 206.</summary>
    Partial,

    /// <summary>A well-formed range that starts at or past the end: 416.</summary>
    Unsatisfiable,
}

/// <summary>Parses the single-range forms containerd sends: <c>bytes=N-</c>, <c>bytes=N-M</c>, and the suffix form <c>bytes=-N</c>.</summary>
public static class RangeHeader
{
    public static RangeRequest Parse(ReadOnlySpan<char> header, long size, out ByteRange range)
    {
        range = default;
        header = header.Trim();
        if (header.IsEmpty)
        {
            return RangeRequest.Whole;
        }
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return RangeRequest.Whole;
        }
        var spec = header["bytes=".Length..].Trim();
        if (spec.Contains(','))
        {
            return RangeRequest.Whole;
        }
        var dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return RangeRequest.Whole;
        }
        var firstText = spec[..dash].Trim();
        var lastText = spec[(dash + 1)..].Trim();
        if (firstText.IsEmpty)
        {
            if (!TryParseNumber(lastText, out var suffix) || suffix == 0)
            {
                return suffix == 0 && !lastText.IsEmpty ? RangeRequest.Unsatisfiable : RangeRequest.Whole;
            }
            if (size == 0)
            {
                return RangeRequest.Unsatisfiable;
            }
            range = new ByteRange(Math.Max(0, size - suffix), size - 1);
            return RangeRequest.Partial;
        }
        if (!TryParseNumber(firstText, out var first))
        {
            return RangeRequest.Whole;
        }
        var last = size - 1;
        if (!lastText.IsEmpty)
        {
            if (!TryParseNumber(lastText, out last) || last < first)
            {
                return RangeRequest.Whole;
            }
            last = Math.Min(last, size - 1);
        }
        if (first >= size)
        {
            return RangeRequest.Unsatisfiable;
        }
        range = new ByteRange(first, last);
        return RangeRequest.Partial;
    }

    private static bool TryParseNumber(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return true;
    }
}
