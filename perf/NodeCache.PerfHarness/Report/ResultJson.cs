using System.Text.Json;
using System.Text.Json.Serialization;

namespace NodeCache.PerfHarness.Report;

/// <summary>Writes the run to &lt;results&gt;/&lt;UTC timestamp&gt;.json, for comparing runs over time.</summary>
internal static class ResultJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // A ratio over a zero (a peer that moved nothing) is NaN; JSON has no NaN, so it is written as a string.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task<string> WriteAsync(HarnessReport report, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{report.StartedAt.UtcDateTime:yyyyMMdd-HHmmss}{(report.Mode == "quick" ? "-quick" : "")}.json");
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, report, Options, cancellationToken);
        return path;
    }
}
