using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Perf;

/// <summary>
/// The side-by-side harness (<c>perf/run</c>'s program) run end to end on its quick settings, on the scenarios that need
/// neither root nor wrk: it starts every peer, measures, prints its tables and writes its JSON. What is checked is what the
/// harness counts, not how fast anything was: each cache's upstream GETs and bytes for a cold blob and for 50 clients at once.
/// </summary>
public sealed class PerfHarnessTests
{
    private static readonly string Program = BuildOutput.AssemblyPath("perf/NodeCache.PerfHarness", "NodeCache.PerfHarness");

    [Fact]
    public async Task The_quick_run_of_cold_and_stampede_counts_one_upstream_download_for_the_agent_and_two_for_the_registry_proxy()
    {
        using var results = TempFolder.Create("perf-results");

        var run = await BuildOutput.RunAsync(Program, ["--quick", "--only", "cold,stampede", "--results", results.Path], TimeSpan.FromMinutes(10));

        Assert.True(run.Succeeded, run.Stderr);
        Assert.Contains("### Goals", run.Stdout, StringComparison.Ordinal);
        var json = Assert.Single(Directory.GetFiles(results.Path, "*-quick.json"));
        using var figures = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = figures.RootElement;
        Assert.Equal(["cold", "stampede", "memory"], root.GetProperty("scenarios").EnumerateArray().Select(s => s.GetProperty("name").GetString()));

        Assert.Equal(1, Median(root, "cold", "agent", "upstream GETs"));
        Assert.Equal(1, Median(root, "cold", "agent", "upstream bytes / blob size"));
        Assert.Equal(1, Median(root, "cold", "nginx-proxy-cache", "upstream GETs"));
        Assert.Equal(2, Median(root, "cold", "registry-proxy", "upstream GETs"));
        Assert.Equal(1, Median(root, "stampede", "agent", "upstream GETs"));
        Assert.Equal(1, Median(root, "stampede", "agent", "upstream bytes / blob size"));
        Assert.True(Median(root, "stampede", "registry-proxy", "upstream GETs") > 1);
        Assert.InRange(Median(root, "memory", "agent", "peak RSS (VmHWM)", "whole run"), 1, 1024);

        var goals = root.GetProperty("goals").EnumerateArray().ToDictionary(g => g.GetProperty("name").GetString()!, g => g);
        Assert.True(goals.Single(g => g.Key.EndsWith("upstream traffic", StringComparison.Ordinal)).Value.GetProperty("met").GetBoolean());
        Assert.True(goals.Single(g => g.Key.EndsWith("cold: upstream GETs", StringComparison.Ordinal)).Value.GetProperty("met").GetBoolean());
    }

    // The median of one peer's metric in the scenario's only case that has it, or in the case named.
    private static double Median(JsonElement root, string scenario, string peer, string metric, string? caseName = null) =>
        root.GetProperty("scenarios").EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == scenario)
            .GetProperty("series").EnumerateArray()
            .Single(s => s.GetProperty("peer").GetString() == peer && s.GetProperty("metric").GetString() == metric
                && (caseName is null || s.GetProperty("case").GetString() == caseName))
            .GetProperty("median").GetDouble();
}
