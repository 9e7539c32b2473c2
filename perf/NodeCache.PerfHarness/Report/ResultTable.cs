using System.Globalization;
using System.Text;

namespace NodeCache.PerfHarness.Report;

/// <summary>The run as Markdown: one table per scenario (medians, and the ratios taken repetition by repetition), then the goals.</summary>
internal static class ResultTable
{
    public static string Render(HarnessReport report)
    {
        var text = new StringBuilder();
        var machine = report.Machine;
        text.AppendLine(CultureInfo.InvariantCulture, $"## NodeCache side-by-side ({report.Mode}, {report.StartedAt:yyyy-MM-dd HH:mm} UTC)");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{machine.Cores} cores ({machine.Cpu}), {machine.MemoryBytes / (1L << 30)} GiB, Linux {machine.Kernel}, {machine.Runtime}. " +
            $"Load average {report.LoadAverageAtStart} at the start, {report.LoadAverageAtEnd} at the end. " +
            $"Medians of {report.Repetitions} repetition(s); ratios are taken within each repetition, then their median.");
        foreach (var scenario in report.Scenarios)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"### {scenario.Title}");
            text.AppendLine();
            var peers = scenario.Peers.Where(p => scenario.Series.Any(s => s.Peer == p)).ToArray();
            text.AppendLine($"| case | metric | {string.Join(" | ", peers)} | ratios |");
            text.AppendLine($"| --- | --- | {string.Join(" | ", peers.Select(_ => "---:"))} | --- |");
            foreach (var (@case, metric, unit) in scenario.Series.Select(s => (s.Case, s.Metric, s.Unit)).Distinct())
            {
                var cells = peers.Select(p => scenario.Find(@case, p, metric) is { } s ? Number(s.Median) : "");
                var ratios = scenario.Ratios.Where(r => r.Case == @case && r.Metric == metric).Select(r => $"{r.Label} **{Number(r.Median)}**");
                text.AppendLine(CultureInfo.InvariantCulture, $"| {@case} | {metric} ({unit}) | {string.Join(" | ", cells)} | {string.Join("; ", ratios)} |");
            }
            foreach (var note in scenario.Notes)
            {
                text.AppendLine();
                text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
            }
        }
        text.AppendLine();
        text.AppendLine("### Goals");
        text.AppendLine();
        text.AppendLine("| goal | target | measured | met |");
        text.AppendLine("| --- | --- | --- | --- |");
        foreach (var goal in report.Goals)
        {
            var met = goal.Met switch
            {
                true => "yes",
                false => "**no**",
                null => "not measured",
            };
            text.AppendLine(CultureInfo.InvariantCulture, $"| {goal.Name} | {goal.Target} | {goal.Measured} | {met} |");
        }
        return text.ToString();
    }

    /// <summary>Three significant figures or so: the noise of a shared machine makes more digits meaningless.</summary>
    public static string Number(double value) => value switch
    {
        double.NaN => "–",
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("F1", CultureInfo.InvariantCulture),
        _ => value.ToString("F2", CultureInfo.InvariantCulture),
    };
}
