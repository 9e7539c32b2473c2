using System.Globalization;
using System.Text.RegularExpressions;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Measurement;

/// <summary>What one wrk run reported: requests per second, latency percentiles, and every answer that was not a success.</summary>
internal sealed record WrkResult(double RequestsPerSecond, TimeSpan P50, TimeSpan P99, long Requests, long Non2xx, long SocketErrors)
{
    public bool Clean => Non2xx == 0 && SocketErrors == 0 && Requests > 0;
}

/// <summary>Runs wrk against one URL with its latency distribution on (<c>--latency</c>) and parses what it prints.</summary>
internal static partial class WrkRun
{
    /// <summary>
    /// Two load threads, one per core: with one, wrk itself limited the manifest runs on the 2-core reference machine
    /// (perf/RESULTS.md#harness-wrk-threads).
    /// </summary>
    private const int Threads = 2;

    public static async Task<WrkResult> RunAsync(Uri uri, string accept, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        var seconds = Math.Max(1, (int)Math.Round(duration.TotalSeconds));
        var run = await ToolRun.RunAsync(
            RequiredTools.Find("wrk"),
            ["-t", Threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{seconds}s",
             "--timeout", "5s", "--latency", "-H", $"Accept: {accept}", uri.ToString()],
            duration + TimeSpan.FromSeconds(30),
            cancellationToken);
        run.EnsureSucceeded($"wrk against {uri}");
        return Parse(run.Stdout);
    }

    /// <summary>
    /// Parses wrk 4's report: "Latency Distribution" lines such as <c>99%    1.23ms</c>, <c>Requests/sec:  12345.67</c>,
    /// <c>N requests in ...</c>, <c>Non-2xx or 3xx responses: N</c> and <c>Socket errors: connect N, read N, write N, timeout N</c>.
    /// </summary>
    public static WrkResult Parse(string output)
    {
        var rps = RequestsPerSecondLine().Match(output);
        var requests = RequestsLine().Match(output);
        var p50 = PercentileLine("50").Match(output);
        var p99 = PercentileLine("99").Match(output);
        if (!rps.Success || !requests.Success || !p50.Success || !p99.Success)
        {
            throw new FormatException($"wrk printed no figures that could be read:\n{output}");
        }
        var non2xx = Non2xxLine().Match(output);
        var socket = SocketErrorsLine().Match(output);
        return new WrkResult(
            double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture),
            Duration(p50.Groups[1].Value, p50.Groups[2].Value),
            Duration(p99.Groups[1].Value, p99.Groups[2].Value),
            long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            socket.Success ? socket.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture)) : 0);
    }

    private static TimeSpan Duration(string value, string unit)
    {
        var number = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => TimeSpan.FromTicks((long)(number * 10)),
            "ms" => TimeSpan.FromTicks((long)(number * TimeSpan.TicksPerMillisecond)),
            "s" => TimeSpan.FromTicks((long)(number * TimeSpan.TicksPerSecond)),
            "m" => TimeSpan.FromTicks((long)(number * TimeSpan.TicksPerMinute)),
            _ => throw new FormatException($"unknown wrk time unit '{unit}'"),
        };
    }

    private static Regex PercentileLine(string percent) => new($@"^\s*{percent}%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecondLine();

    [GeneratedRegex(@"^\s*([0-9]+) requests in ", RegexOptions.Multiline)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"^\s*Non-2xx or 3xx responses:\s+([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)")]
    private static partial Regex SocketErrorsLine();
}
