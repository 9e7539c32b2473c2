using System.Globalization;
using System.Text.Json;

namespace NodeCache.Testing.Prometheus;

/// <summary>One series of a query's answer: its labels and its samples (unix seconds, value; NaN and ±Inf as Prometheus sends them).</summary>
public sealed record PrometheusSeries(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(double Time, double Value)> Samples)
{
    public bool HasFiniteSample => Samples.Any(s => double.IsFinite(s.Value));

    public override string ToString() =>
        $"{{{string.Join(", ", Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}}: {string.Join(' ', Samples.TakeLast(5).Select(s => s.Value.ToString(CultureInfo.InvariantCulture)))}";
}

/// <summary>A target as Prometheus reports it on <c>/api/v1/targets</c>.</summary>
public sealed record PrometheusTarget(string ScrapeUrl, string Health, DateTimeOffset LastScrape, string LastError)
{
    public override string ToString() => $"{ScrapeUrl} {Health} at {LastScrape:O} {LastError}";
}

/// <summary>A query Prometheus refused or could not evaluate, with its own words.</summary>
public sealed class PrometheusQueryException(string query, string errorType, string error)
    : Exception($"Prometheus could not evaluate {query}: {errorType}: {error}")
{
    public string Query { get; } = query;
}

/// <summary>Prometheus' HTTP API (<c>/api/v1</c>): the calls Grafana makes for a dashboard, and the targets' state.</summary>
public sealed class PrometheusApi(Uri baseUri) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>An instant query (<c>/api/v1/query</c>) at <paramref name="time"/>: each series with its one sample.</summary>
    public Task<IReadOnlyList<PrometheusSeries>> QueryAsync(string query, DateTimeOffset time, CancellationToken cancellationToken = default) =>
        SeriesAsync("api/v1/query", query, [new("time", Seconds(time))], cancellationToken);

    /// <summary>A range query (<c>/api/v1/query_range</c>), as a Grafana time series panel sends it.</summary>
    public Task<IReadOnlyList<PrometheusSeries>> QueryRangeAsync(
        string query, DateTimeOffset start, DateTimeOffset end, TimeSpan step, CancellationToken cancellationToken = default) =>
        SeriesAsync("api/v1/query_range", query,
            [new("start", Seconds(start)), new("end", Seconds(end)), new("step", step.TotalSeconds.ToString(CultureInfo.InvariantCulture))],
            cancellationToken);

    /// <summary>The values <paramref name="label"/> takes on the series <paramref name="match"/> selects, as Grafana's <c>label_values()</c> asks.</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string label, string match, CancellationToken cancellationToken = default)
    {
        using var document = await GetAsync($"api/v1/label/{Uri.EscapeDataString(label)}/values?match[]={Uri.EscapeDataString(match)}", match, cancellationToken);
        return [.. document.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!)];
    }

    /// <summary>The names of every metric Prometheus holds a series of.</summary>
    public Task<IReadOnlyList<string>> MetricNamesAsync(CancellationToken cancellationToken = default) =>
        LabelValuesAsync("__name__", "{__name__=~\".+\"}", cancellationToken);

    /// <summary>The active scrape targets and how their last scrape went.</summary>
    public async Task<IReadOnlyList<PrometheusTarget>> TargetsAsync(CancellationToken cancellationToken = default)
    {
        using var document = await GetAsync("api/v1/targets?state=active", "targets", cancellationToken);
        return [.. document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray().Select(t => new PrometheusTarget(
            t.GetProperty("scrapeUrl").GetString()!,
            t.GetProperty("health").GetString()!,
            t.GetProperty("lastScrape").GetDateTimeOffset(),
            t.GetProperty("lastError").GetString() ?? ""))];
    }

    public void Dispose() => _http.Dispose();

    private async Task<IReadOnlyList<PrometheusSeries>> SeriesAsync(
        string path, string query, KeyValuePair<string, string>[] parameters, CancellationToken cancellationToken)
    {
        var form = string.Join('&', parameters.Prepend(new("query", query)).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
        using var document = await GetAsync($"{path}?{form}", query, cancellationToken);
        var data = document.RootElement.GetProperty("data");
        var resultType = data.GetProperty("resultType").GetString();
        return resultType switch
        {
            "matrix" => [.. data.GetProperty("result").EnumerateArray().Select(s => new PrometheusSeries(Labels(s), [.. s.GetProperty("values").EnumerateArray().Select(Sample)]))],
            "vector" => [.. data.GetProperty("result").EnumerateArray().Select(s => new PrometheusSeries(Labels(s), [Sample(s.GetProperty("value"))]))],
            "scalar" => [new PrometheusSeries(new Dictionary<string, string>(), [Sample(data.GetProperty("result"))])],
            _ => throw new PrometheusQueryException(query, "unexpected result", resultType ?? "none"),
        };
    }

    private async Task<JsonDocument> GetAsync(string pathAndQuery, string what, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(pathAndQuery, UriKind.Relative), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            throw new PrometheusQueryException(what, $"HTTP {(int)response.StatusCode}", body);
        }
        if (document.RootElement.GetProperty("status").GetString() != "success")
        {
            using (document)
            {
                throw new PrometheusQueryException(what, document.RootElement.GetProperty("errorType").GetString() ?? "",
                    document.RootElement.GetProperty("error").GetString() ?? "");
            }
        }
        return document;
    }

    private static Dictionary<string, string> Labels(JsonElement series) =>
        series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);

    // [ <unix seconds>, "<value>" ]; the value is a string so that NaN and Inf survive JSON.
    private static (double, double) Sample(JsonElement pair) =>
        (pair[0].GetDouble(), double.Parse(pair[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture));

    private static string Seconds(DateTimeOffset time) => (time.ToUnixTimeMilliseconds() / 1000.0).ToString(CultureInfo.InvariantCulture);
}
