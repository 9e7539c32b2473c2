using System.Globalization;
using NodeCache.PerfHarness.Cluster;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Scenarios;

namespace NodeCache.PerfHarness.Report;

/// <summary>The performance goals (perf/README.md#goals), checked against this run's medians. A goal whose scenario did not run is "not measured".</summary>
internal static class Goals
{
    public static IReadOnlyList<Goal> Evaluate(IReadOnlyList<ScenarioResult> scenarios)
    {
        var goals = new List<Goal>();
        var byName = scenarios.ToDictionary(s => s.Name);

        if (byName.TryGetValue(WarmBlobThroughput.Name, out var warm))
        {
            foreach (var ratio in warm.Ratios.Where(r => r.Metric == WarmBlobThroughput.Metric && r.Label == $"{Peer.Agent} / {Peer.NginxStatic}"))
            {
                goals.Add(AtLeast($"warm blob: {ratio.Case}", "≥ 0.95× nginx-static", ratio.Median, 0.95));
            }
        }
        else
        {
            goals.Add(NotMeasured("warm blob throughput", "≥ 0.95× nginx-static with 1 and 8 clients"));
        }

        if (byName.TryGetValue(ManifestLoad.Name, out var manifests))
        {
            foreach (var @case in manifests.Series.Select(s => s.Case).Distinct())
            {
                goals.Add(AtLeast($"manifests {@case}: req/s", "≥ 5× registry-proxy", manifests.FindRatio(@case, ManifestLoad.Throughput, $"{Peer.Agent} / {Peer.RegistryProxy}")?.Median, 5));
                goals.Add(AtLeast($"manifests {@case}: req/s", "≥ 1× nginx-proxy-cache", manifests.FindRatio(@case, ManifestLoad.Throughput, $"{Peer.Agent} / {Peer.NginxProxyCache}")?.Median, 1));
                goals.Add(AtMost($"manifests {@case}: agent p99 at 64 connections", "≤ 2 ms", manifests.Find(@case, Peer.Agent, ManifestLoad.P99)?.Median, 2, "ms"));
            }
        }
        else
        {
            goals.Add(NotMeasured("manifests", "≥ 5× registry-proxy, ≥ 1× nginx-proxy-cache, p99 ≤ 2 ms"));
        }

        if (byName.TryGetValue(ColdFill.Name, out var cold))
        {
            foreach (var @case in cold.Series.Select(s => s.Case).Distinct())
            {
                goals.Add(AtMost($"cold fill {@case}: time to last byte", "≤ 1.1× direct", cold.FindRatio(@case, ColdFill.Time, $"{Peer.Agent} / {Peer.Upstream}")?.Median, 1.1));
                var gets = cold.Find(@case, Peer.Agent, ColdFill.UpstreamGets)?.Values ?? [];
                var bytes = cold.Find(@case, Peer.Agent, ColdFill.UpstreamBytes)?.Values ?? [];
                goals.Add(new Goal(
                    $"cold fill {@case}: upstream traffic",
                    "1 GET, bytes = blob size",
                    $"{string.Join(", ", gets)} GETs; {string.Join(", ", bytes.Select(b => ResultTable.Number(b)))}× the blob",
                    gets.Count == 0 ? null : gets.All(g => g == 1) && bytes.All(b => Math.Abs(b - 1) < 1e-9)));
            }
        }
        else
        {
            goals.Add(NotMeasured("cold fill", "≤ 1.1× direct, upstream bytes = blob size"));
        }

        if (byName.TryGetValue(ConcurrentColdFill.Name, out var stampede))
        {
            var coldCase = stampede.Series.First(s => s.Peer == Peer.Agent).Case;
            var gets = stampede.Find(coldCase, Peer.Agent, ConcurrentColdFill.UpstreamGets)?.Values ?? [];
            goals.Add(new Goal($"stampede {coldCase}: upstream GETs", "1", string.Join(", ", gets), gets.Count == 0 ? null : gets.All(g => g == 1)));
            goals.Add(AtMost($"stampede {coldCase}: total time", "≤ 1.2× one cold download", stampede.FindRatio(coldCase, ConcurrentColdFill.Time, $"{Peer.Agent} / one direct download")?.Median, 1.2));
            // Not one of the goals: what this single machine can show of the one above, since the 50 clients share the agent's cores.
            goals.Add(AtMost($"stampede {coldCase}: total time (clients on the same cores)", "≤ 1.2× the same 50 clients warm", stampede.FindRatio(coldCase, ConcurrentColdFill.Time, $"{Peer.Agent} cold / warm")?.Median, 1.2));
        }
        else
        {
            goals.Add(NotMeasured("stampede of 50 cold requests", "1 upstream GET, total ≤ 1.2× one cold download"));
        }

        var peaks = new List<double>();
        if (byName.TryGetValue(AgentMemory.Name, out var memory) && memory.Find(AgentMemory.Case, Peer.Agent, AgentMemory.Peak) is { } peak)
        {
            peaks.AddRange(peak.Values);
        }
        if (byName.TryGetValue(ContainerdPull.Name, out var pull))
        {
            peaks.AddRange(pull.Series.Where(s => s.Metric == ContainerdPull.PeakMemory).SelectMany(s => s.Values));
        }
        goals.Add(peaks.Count == 0
            ? NotMeasured("agent peak RSS", "< 150 MiB")
            : new Goal("agent peak RSS (every agent of the run)", "< 150 MiB", $"{ResultTable.Number(peaks.Max())} MiB", peaks.Max() < 150));

        if (byName.TryGetValue(ClusterRollout.Name, out var cluster))
        {
            // The rollouts without a fault: a fault's case ("N = 10, ...") costs what it costs, and is reported, not judged.
            foreach (var @case in cluster.Series.Where(s => s.Peer == ClusterRollout.On && s.Case.StartsWith("N = ", StringComparison.Ordinal) && !s.Case.Contains(',', StringComparison.Ordinal)).Select(s => s.Case).Distinct())
            {
                // A blob resumed with a Range request after a cut counts its bytes twice at most: within a percent of 1.
                goals.Add(AtMost($"cluster {@case}: Harbor egress with peering", "1× the image", cluster.Find(@case, ClusterRollout.On, ClusterRollout.Egress)?.Median, 1.01));
                goals.Add(AtMost($"cluster {@case}: rollout with peering", "≤ 1.5× one node alone", cluster.FindRatio(@case, ClusterRollout.Time, $"{ClusterRollout.On} / {ClusterRollout.Alone}")?.Median, 1.5));
            }
            if (!cluster.Series.Any(s => s.Peer == ClusterRollout.On))
            {
                goals.Add(NotMeasured("cluster: Harbor egress and rollout time with peering", "1× the image; ≤ 1.5× one node alone (the agent has no peering)"));
            }
        }
        else
        {
            goals.Add(NotMeasured("cluster rollout (perf/run --only cluster)", "Harbor egress 1× the image with peering; rollout ≤ 1.5× one node alone"));
        }

        goals.Add(NotMeasured("index lookups on one core", "≥ 2 M/s (perf/NodeCache.Benchmarks, CacheIndexBenchmarks)"));
        return goals;
    }

    private static Goal AtLeast(string name, string target, double? measured, double threshold, string unit = "×") =>
        measured is { } value && !double.IsNaN(value)
            ? new Goal(name, target, Format(value, unit), value >= threshold)
            : new Goal(name, target, "–", null);

    private static Goal AtMost(string name, string target, double? measured, double threshold, string unit = "×") =>
        measured is { } value && !double.IsNaN(value)
            ? new Goal(name, target, Format(value, unit), value <= threshold)
            : new Goal(name, target, "–", null);

    private static Goal NotMeasured(string name, string target) => new(name, target, "–", null);

    private static string Format(double value, string unit) =>
        unit == "×" ? string.Create(CultureInfo.InvariantCulture, $"{ResultTable.Number(value)}×") : $"{ResultTable.Number(value)} {unit}";
}
