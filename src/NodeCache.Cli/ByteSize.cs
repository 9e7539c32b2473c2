using System.Globalization;

namespace NodeCache.Cli;

/// <summary>Bytes for people: 1.5 MiB.</summary>
internal static class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Format(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {Units[unit]}");
    }

    public static string Rate(long bytes, TimeSpan elapsed) =>
        elapsed > TimeSpan.Zero ? Format((long)(bytes / elapsed.TotalSeconds)) + "/s" : "-";
}
