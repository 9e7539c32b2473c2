using System.Globalization;
using NodeCache.Access;

namespace NodeCache.Agent.Configuration;

/// <summary>The parsers of the prefetch settings' values; each mistake is one line that names the value.</summary>
internal static class PrefetchSettings
{
    public static int Concurrency(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 64
            ? n
            : throw new FormatException($"'{value}' is not a number of images from 1 to 64");

    /// <summary><c>50MiB/s</c>, <c>10MB/s</c> or a plain number of bytes per second.</summary>
    public static long Bandwidth(string value)
    {
        var size = value.Trim();
        if (size.EndsWith("/s", StringComparison.OrdinalIgnoreCase))
        {
            size = size[..^2];
        }
        try
        {
            if (CacheSize.Parse(size).Bytes is { } bytes)
            {
                return bytes;
            }
        }
        catch (FormatException)
        {
        }
        throw new FormatException($"'{value}' is not a rate such as 50MiB/s");
    }

    public static bool Flag(string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "1" or "on" => true,
        "false" or "no" or "0" or "off" => false,
        _ => throw new FormatException($"'{value}' is not true or false"),
    };

    public static PrivateImageMode PrivateImages(string value) => value.Trim().ToLowerInvariant() switch
    {
        "serve" => PrivateImageMode.Serve,
        "verify" => PrivateImageMode.Verify,
        "passthrough" => PrivateImageMode.Passthrough,
        _ => throw new FormatException($"'{value}' is not serve, verify or passthrough"),
    };
}
