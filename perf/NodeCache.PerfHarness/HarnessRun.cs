using System.Diagnostics;
using NodeCache.PerfHarness.Cluster;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Report;
using NodeCache.PerfHarness.Scenarios;

namespace NodeCache.PerfHarness;

/// <summary>
/// Starts the testbed, runs the scenarios the settings ask for in a fixed order (the simulated cluster last, on machines of
/// its own), and reports: Markdown on stdout, JSON in the results folder.
/// </summary>
internal static class HarnessRun
{
    private static readonly (string Name, Func<Testbed, CancellationToken, Task<ScenarioResult>> Run)[] Scenarios =
    [
        (WarmBlobThroughput.Name, WarmBlobThroughput.RunAsync),
        (ManifestLoad.Name, ManifestLoad.RunAsync),
        (ColdFill.Name, ColdFill.RunAsync),
        (ConcurrentColdFill.Name, ConcurrentColdFill.RunAsync),
        (ContainerdPull.Name, ContainerdPull.RunAsync),
    ];

    public static async Task<int> RunAsync(HarnessSettings settings, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var loadAtStart = MachineInfo.LoadAverage();
        var clock = Stopwatch.StartNew();
        void Progress(string message) => Console.Error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {message}");

        var results = new List<ScenarioResult>();
        var failed = false;
        async Task RunScenarioAsync(string name, Func<Task<ScenarioResult>> run)
        {
            try
            {
                results.Add(await run());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One broken scenario should not cost the figures of the others; the exit code still says so.
                failed = true;
                Progress($"{name} failed: {ex}");
                var broken = new ScenarioResult(name, $"{name} (failed)", []);
                broken.Note($"failed: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
                results.Add(broken);
            }
        }
        try
        {
            var onLoopback = Scenarios.Where(s => settings.Runs(s.Name)).ToList();
            if (onLoopback.Count > 0)
            {
                await using var bed = await Testbed.StartAsync(settings, Progress, cancellationToken);
                var memory = AgentMemory.Start();
                AgentMemory.AfterScenario(memory, bed, "start");
                foreach (var (name, run) in onLoopback)
                {
                    await RunScenarioAsync(name, async () =>
                    {
                        var result = await run(bed, cancellationToken);
                        AgentMemory.AfterScenario(memory, bed, name);
                        return result;
                    });
                }
                results.Add(AgentMemory.Measure(memory, bed));
                Progress("stopping the peers");
            }
            // The cluster builds its own machines: a bed of its own, after the loopback one is gone.
            if (settings.Runs(ClusterRollout.Name))
            {
                await RunScenarioAsync(ClusterRollout.Name, () => ClusterRollout.RunAsync(settings, Progress, cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            failed = true;
            Progress($"stopped after {clock.Elapsed:mm\\:ss} (deadline {settings.Deadline} or Ctrl+C); reporting what was measured");
        }
        catch (Exception ex)
        {
            failed = true;
            Progress($"the testbed failed: {ex}");
            if (results.Count == 0)
            {
                // It did not start: there is nothing to report, and its peers were stopped as it unwound.
                return 1;
            }
        }

        var report = new HarnessReport(startedAt, DateTimeOffset.UtcNow, settings.Quick ? "quick" : "full", settings.Repetitions, MachineInfo.Current(), loadAtStart, MachineInfo.LoadAverage(), results, Goals.Evaluate(results));
        Console.WriteLine(ResultTable.Render(report));
        var path = await ResultJson.WriteAsync(report, settings.ResultsDirectory, CancellationToken.None);
        Progress($"wrote {path} after {clock.Elapsed:mm\\:ss}");
        return failed ? 1 : 0;
    }
}
