using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NodeCache.Testing.Prometheus;

/// <summary>One query of a panel: its PromQL as written in the dashboard, with Grafana's variables, and its legend format.</summary>
public sealed partial record DashboardQuery(string Expression, string LegendFormat)
{
    /// <summary>
    /// The PromQL Grafana sends: each <c>$name</c> or <c>${name}</c> replaced by its value. A variable without a value
    /// throws, so that a dashboard gaining one fails the tests until they give it a value.
    /// </summary>
    public string Resolve(IReadOnlyDictionary<string, string> variables) =>
        Variable().Replace(Expression, match =>
        {
            var name = match.Groups["braced"].Success ? match.Groups["braced"].Value : match.Groups["plain"].Value;
            return variables.TryGetValue(name, out var value)
                ? value
                : throw new InvalidOperationException($"no value for the dashboard variable ${name} in {Expression}");
        });

    /// <summary>A series' legend: <c>{{label}}</c> replaced by the series' label, as Grafana draws it.</summary>
    public string Legend(IReadOnlyDictionary<string, string> labels) =>
        LegendFormat.Length == 0
            ? "{" + string.Join(", ", labels.Select(l => $"{l.Key}=\"{l.Value}\"")) + "}"
            : LegendLabel().Replace(LegendFormat, match => labels.GetValueOrDefault(match.Groups[1].Value, "")).Trim();

    [GeneratedRegex(@"\$(?:\{(?<braced>\w+)\}|(?<plain>\w+))")]
    private static partial Regex Variable();

    [GeneratedRegex(@"\{\{\s*(\w+)\s*\}\}")]
    private static partial Regex LegendLabel();
}

/// <summary>A panel: its title, its unit (Grafana's unit id: s, Bps, percentunit, reqps, short) and its queries.</summary>
public sealed record DashboardPanel(string Title, string Unit, IReadOnlyList<DashboardQuery> Queries);

/// <summary>A template variable of the dashboard and the query that lists its values.</summary>
public sealed record DashboardVariable(string Name, string Type, string Query);

/// <summary>
/// A Grafana dashboard JSON (the chart's <c>dashboards/nodecache.json</c>) read the way Grafana reads it: panels
/// (rows unfolded), their queries, and the template variables.
/// </summary>
public sealed partial class GrafanaDashboard
{
    private GrafanaDashboard(IReadOnlyList<DashboardPanel> panels, IReadOnlyList<DashboardVariable> variables)
    {
        Panels = panels;
        Variables = variables;
    }

    /// <summary>charts/nodecache/dashboards/nodecache.json of this repository.</summary>
    public static string ChartDashboardPath => Path.Combine(Helm.Chart("nodecache"), "dashboards", "nodecache.json");

    public IReadOnlyList<DashboardPanel> Panels { get; }

    public IReadOnlyList<DashboardVariable> Variables { get; }

    public static GrafanaDashboard Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        var panels = new List<DashboardPanel>();
        foreach (var panel in Unfold(root.GetProperty("panels")))
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }
            var unit = panel.TryGetProperty("fieldConfig", out var config) && config.TryGetProperty("defaults", out var defaults) &&
                       defaults.TryGetProperty("unit", out var unitElement)
                ? unitElement.GetString() ?? ""
                : "";
            panels.Add(new DashboardPanel(
                panel.GetProperty("title").GetString() ?? "",
                unit,
                [.. targets.EnumerateArray().Select(t => new DashboardQuery(
                    t.GetProperty("expr").GetString() ?? "",
                    t.TryGetProperty("legendFormat", out var legend) ? legend.GetString() ?? "" : ""))]));
        }
        var variables = root.TryGetProperty("templating", out var templating)
            ? templating.GetProperty("list").EnumerateArray().Select(v => new DashboardVariable(
                v.GetProperty("name").GetString() ?? "",
                v.GetProperty("type").GetString() ?? "",
                v.TryGetProperty("query", out var query) && query.ValueKind == JsonValueKind.String ? query.GetString() ?? "" : "")).ToList()
            : [];
        return new GrafanaDashboard(panels, variables);
    }

    /// <summary>
    /// Grafana's <c>$__rate_interval</c>: four scrape intervals, or the query's step plus one scrape interval when that is
    /// longer, so that a rate() window always holds at least two samples.
    /// </summary>
    public static string RateInterval(TimeSpan scrapeInterval, TimeSpan step)
    {
        var interval = TimeSpan.FromTicks(Math.Max(4 * scrapeInterval.Ticks, (step + scrapeInterval).Ticks));
        return ((long)interval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>A <c>label_values(METRIC, LABEL)</c> variable query as the metric selector and the label; null for another kind of query.</summary>
    public static (string Match, string Label)? LabelValuesQuery(string query)
    {
        var match = LabelValues().Match(query);
        return match.Success ? (match.Groups[1].Value.Trim(), match.Groups[2].Value.Trim()) : null;
    }

    private static IEnumerable<JsonElement> Unfold(JsonElement panels)
    {
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var children))
            {
                foreach (var child in Unfold(children))
                {
                    yield return child;
                }
            }
        }
    }

    [GeneratedRegex(@"^\s*label_values\((.+),\s*(\w+)\s*\)\s*$")]
    private static partial Regex LabelValues();
}
