namespace NodeCache.PerfHarness.Report;

/// <summary>Everything a run produced, as written to perf/results/&lt;timestamp&gt;.json.</summary>
/// <remarks>The load averages (/proc/loadavg: 1, 5 and 15 minutes) tell a run on a quiet machine from one that shared it.</remarks>
internal sealed record HarnessReport(
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Mode,
    int Repetitions,
    MachineInfo Machine,
    string LoadAverageAtStart,
    string LoadAverageAtEnd,
    IReadOnlyList<ScenarioResult> Scenarios,
    IReadOnlyList<Goal> Goals);
