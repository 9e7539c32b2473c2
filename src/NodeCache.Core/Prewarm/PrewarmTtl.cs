using System.Globalization;
using System.Text.RegularExpressions;

namespace NodeCache.Prewarm;

/// <summary>An ImagePrewarm's <c>spec.ttl</c>: a Kubernetes duration such as <c>30m</c>, <c>24h</c> or <c>1h30m</c> (the CRD's pattern).</summary>
public static partial class PrewarmTtl
{
    public static bool TryParse(string? text, out TimeSpan ttl)
    {
        ttl = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || !Whole().IsMatch(text))
        {
            return false;
        }
        foreach (Match part in Part().Matches(text))
        {
            var amount = long.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            ttl += part.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        }
        return true;
    }

    [GeneratedRegex("^([0-9]+(ms|s|m|h))+$", RegexOptions.CultureInvariant)]
    private static partial Regex Whole();

    [GeneratedRegex("([0-9]+)(ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();
}
