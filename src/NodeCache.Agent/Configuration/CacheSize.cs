using System.Globalization;

namespace NodeCache.Agent.Configuration;

/// <summary>The cache's size limit: a number of bytes (<c>20GiB</c>, <c>500M</c>) or a share of its filesystem (<c>80%</c>).</summary>
internal readonly record struct CacheSize(long? Bytes, double? Percent)
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1000L), ("MB", 1000_000L), ("GB", 1000_000_000L), ("TB", 1000_000_000_000L),
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
        ("K", 1000L), ("M", 1000_000L), ("G", 1000_000_000L), ("T", 1000_000_000_000L),
        ("B", 1L),
    ];

    public static CacheSize Parse(string text)
    {
        var value = text.Trim();
        if (value.EndsWith('%'))
        {
            if (double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent is > 0 and <= 100)
            {
                return new CacheSize(null, percent);
            }
            throw new FormatException($"cache size '{text}': a share of the disk is between 0% and 100%");
        }
        foreach (var (suffix, factor) in Units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && TryBytes(value[..^suffix.Length], factor, out var bytes))
            {
                return new CacheSize(bytes, null);
            }
        }
        if (TryBytes(value, 1, out var plain))
        {
            return new CacheSize(plain, null);
        }
        throw new FormatException($"cache size '{text}': expected bytes like 20GiB, 500MB or 1073741824, or a share like 80%");
    }

    /// <summary>The limit in bytes on a filesystem of <paramref name="filesystemBytes"/>.</summary>
    public long Resolve(long filesystemBytes) => Bytes ?? (long)(filesystemBytes * Percent!.Value / 100);

    public override string ToString() => Bytes is { } bytes ? $"{bytes} bytes" : $"{Percent}% of the disk";

    private static bool TryBytes(string number, long factor, out long bytes)
    {
        bytes = 0;
        if (!double.TryParse(number.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0 || amount * factor > long.MaxValue)
        {
            return false;
        }
        bytes = (long)(amount * factor);
        return true;
    }
}
