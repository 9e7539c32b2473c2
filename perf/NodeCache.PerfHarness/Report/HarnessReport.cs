namespace NodeCache.PerfHarness.Report;

/// <summary>Everything a run produced, as written to perf/results/&lt;timestamp&gt;.json.</summary>
internal sealed record HarnessReport(
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Mode,
    int Repetitions,
    MachineInfo Machine,
    IReadOnlyList<ScenarioResult> Scenarios,
    IReadOnlyList<Goal> Goals);
