using NodeCache.DashboardPicture;
using NodeCache.Testing.Prometheus;

// Real peers on loopback: the registry standing in for Harbor, two agents mirroring it with peering on, containerd pulling
// through them, and Prometheus scraping both. Each panel of the chart's dashboard is then drawn from Prometheus' answer to its queries.
var output = args.Length > 0 ? args[0] : "docs/dashboard.svg";
await using var pulls = await ScrapedPulls.RunAsync(TimeSpan.FromSeconds(5), Console.WriteLine);
var dashboard = GrafanaDashboard.Load(GrafanaDashboard.ChartDashboardPath);
// One point a second, as Grafana asks for a range this short; $__rate_interval follows from it and the scrape interval.
var step = TimeSpan.FromSeconds(1);
var variables = new Dictionary<string, string>
{
    ["node"] = ".*",
    ["__rate_interval"] = GrafanaDashboard.RateInterval(pulls.ScrapeInterval, step),
};
var start = pulls.Started;
var pictures = new List<PanelPicture>();
foreach (var panel in dashboard.Panels)
{
    var lines = new List<PanelLine>();
    foreach (var query in panel.Queries)
    {
        foreach (var series in await pulls.Prometheus.Api.QueryRangeAsync(query.Resolve(variables), start, pulls.Finished, step))
        {
            lines.Add(new PanelLine(query.Legend(series.Labels), [.. series.Samples.Select(s => (s.Time - start.ToUnixTimeMilliseconds() / 1000.0, s.Value))]));
        }
    }
    pictures.Add(new PanelPicture(panel.Title, panel.Unit, lines));
}

var seconds = (pulls.Finished - start).TotalSeconds;
var svg = DashboardSvg.Render(pictures, seconds,
    $"Prometheus' answers to the dashboard's queries: two real nodecache-agents scraped every second during containerd pulls of 3 images through node-a, then of the first through node-b from node-a ({seconds:0} s)");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, svg);
Console.WriteLine($"wrote {output}");
