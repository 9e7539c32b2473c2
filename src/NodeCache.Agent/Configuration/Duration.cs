using System.Globalization;

namespace NodeCache.Agent.Configuration;

/// <summary>Durations as Kubernetes and Prometheus users write them: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, or plain seconds.</summary>
internal static class Duration
{
    public static TimeSpan Parse(string text, string setting)
    {
        var value = text.Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach (var (suffix, seconds) in units)
        {
            if (value.EndsWith(suffix, StringComparison.Ordinal) && TryNumber(value[..^suffix.Length], out var amount))
            {
                return TimeSpan.FromSeconds(amount * seconds);
            }
        }
        if (TryNumber(value, out var plain))
        {
            return TimeSpan.FromSeconds(plain);
        }
        throw new FormatException($"{setting} '{text}': expected a duration like 500ms, 30s, 5m or 1h");
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value >= 0 && double.IsFinite(value);
}
