using System.Globalization;
using System.Security;
using System.Text;

namespace NodeCache.DashboardPicture;

/// <summary>One series of a panel as Prometheus answered it: its legend and its points (seconds from the start, value).</summary>
internal sealed record PanelLine(string Legend, IReadOnlyList<(double Seconds, double Value)> Points);

/// <summary>A panel to draw: its title, its Grafana unit (s, Bps, percentunit, reqps, short) and its series.</summary>
internal sealed record PanelPicture(string Title, string Unit, IReadOnlyList<PanelLine> Lines);

/// <summary>Draws the panels as a Grafana-like grid of time series in one SVG.</summary>
internal static class DashboardSvg
{
    private const int Columns = 2;
    private const int PanelWidth = 590;
    private const int PanelHeight = 210;
    private const int Gap = 10;
    private const int Header = 44;
    private const int LegendRowHeight = 13;

    private static readonly string[] Colors = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#8ab8ff", "#96d98d"];

    public static string Render(IReadOnlyList<PanelPicture> panels, double seconds, string caption)
    {
        var rows = (panels.Count + Columns - 1) / Columns;
        var width = Columns * PanelWidth + (Columns + 1) * Gap;
        var height = Header + rows * (PanelHeight + Gap) + Gap;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Inter, Helvetica, Arial, sans-serif">""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{width}" height="{height}" fill="#111217"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Gap}" y="22" fill="#ccccdc" font-size="16" font-weight="600">NodeCache</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Gap}" y="38" fill="#8e8e9e" font-size="11">{Escape(caption)}</text>""").Append('\n');
        for (var p = 0; p < panels.Count; p++)
        {
            var x = Gap + p % Columns * (PanelWidth + Gap);
            var y = Header + p / Columns * (PanelHeight + Gap);
            DrawPanel(svg, panels[p], seconds, x, y);
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void DrawPanel(StringBuilder svg, PanelPicture panel, double seconds, int x, int y)
    {
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{x}" y="{y}" width="{PanelWidth}" height="{PanelHeight}" rx="3" fill="#181b1f" stroke="#2c3235"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x + 10}" y="{y + 20}" fill="#ccccdc" font-size="13" font-weight="500">{Escape(panel.Title)}</text>""").Append('\n');
        // NaN (a quantile over no pulls) is a gap in Grafana, not a point.
        var series = new SortedDictionary<string, List<(double T, double V)>>(StringComparer.Ordinal);
        foreach (var line in panel.Lines)
        {
            var points = series.TryGetValue(line.Legend, out var existing) ? existing : series[line.Legend] = [];
            points.AddRange(line.Points.Where(p => double.IsFinite(p.Value)).Select(p => (p.Seconds, p.Value)));
        }
        foreach (var empty in series.Where(s => s.Value.Count == 0).Select(s => s.Key).ToList())
        {
            series.Remove(empty);
        }
        // The legend wraps as Grafana's does; its extra rows come out of the plot's height.
        var legendRows = LegendRows(series.Keys, x);
        var (left, top, plotWidth, plotHeight) = (x + 58, y + 32, PanelWidth - 72, PanelHeight - 78 - (legendRows - 1) * LegendRowHeight);
        var maxT = Math.Max(seconds, 1);
        var maxV = series.Values.SelectMany(s => s).Select(p => p.V).DefaultIfEmpty(0).Max();
        maxV = maxV <= 0 ? 1 : maxV * 1.1;
        for (var g = 0; g <= 4; g++)
        {
            var gy = top + plotHeight - g * plotHeight / 4.0;
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{left}" y1="{gy:0.#}" x2="{left + plotWidth}" y2="{gy:0.#}" stroke="#2c3235"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left - 6}" y="{gy + 4:0.#}" fill="#8e8e9e" font-size="10" text-anchor="end">{Format(maxV * g / 4, panel.Unit)}</text>""");
        }
        for (var t = 0; t <= maxT; t += 10)
        {
            var tx = left + t / maxT * plotWidth;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{tx:0.#}" y="{top + plotHeight + 14}" fill="#8e8e9e" font-size="10" text-anchor="middle">{t}s</text>""");
        }
        svg.Append('\n');
        if (series.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left + plotWidth / 2}" y="{top + plotHeight / 2}" fill="#8e8e9e" font-size="12" text-anchor="middle">No data</text>""").Append('\n');
        }
        var color = 0;
        var legendX = x + 10.0;
        var legendY = y + PanelHeight - 14 - (legendRows - 1) * LegendRowHeight;
        foreach (var (name, points) in series)
        {
            var stroke = Colors[color++ % Colors.Length];
            var path = string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture,
                $"{left + p.T / maxT * plotWidth:0.#},{top + plotHeight - p.V / maxV * plotHeight:0.#}")));
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline fill="none" stroke="{stroke}" stroke-width="1.5" points="{path}"/>""").Append('\n');
            if (legendX + LegendWidth(name) > x + PanelWidth)
            {
                legendX = x + 10.0;
                legendY += LegendRowHeight;
            }
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{legendX:0.#}" y="{legendY - 5}" width="12" height="3" fill="{stroke}"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{legendX + 16:0.#}" y="{legendY}" fill="#ccccdc" font-size="10">{Escape(name)}</text>""").Append('\n');
            legendX += LegendWidth(name);
        }
    }

    private static int LegendRows(IEnumerable<string> names, int x)
    {
        var (rows, legendX) = (1, x + 10.0);
        foreach (var name in names)
        {
            if (legendX + LegendWidth(name) > x + PanelWidth)
            {
                rows++;
                legendX = x + 10.0;
            }
            legendX += LegendWidth(name);
        }
        return rows;
    }

    private static double LegendWidth(string name) => 24 + name.Length * 6;

    // Grafana's unit ids as the dashboard sets them.
    private static string Format(double value, string unit) => unit switch
    {
        "Bps" => Bytes(value) + "/s",
        "percentunit" => string.Create(CultureInfo.InvariantCulture, $"{value * 100:0}%"),
        "s" => value < 1 ? string.Create(CultureInfo.InvariantCulture, $"{value * 1000:0} ms") : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} s"),
        "reqps" => string.Create(CultureInfo.InvariantCulture, $"{value:0.##} req/s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value:0.##}"),
    };

    private static string Bytes(double value)
    {
        string[] units = ["B", "KiB", "MiB", "GiB"];
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }

    private static string Escape(string text) => SecurityElement.Escape(text);
}
