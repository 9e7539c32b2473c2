namespace NodeCache.Testing.Prometheus;

/// <summary>
/// The real <c>promtool</c> of Debian's <c>prometheus</c> package: checks rule files, runs alert unit tests, and lints an
/// exposition the way Prometheus' own tooling does. Each call returns the run for the caller to judge.
/// </summary>
public static class Promtool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary><c>promtool check rules FILE</c>: the file parses and every expression is valid PromQL.</summary>
    public static Task<ToolRun> CheckRulesAsync(string rulesFile) => RunAsync(["check", "rules", rulesFile]);

    /// <summary><c>promtool test rules FILE</c>: the unit tests in the file (series in, alerts expected out).</summary>
    public static Task<ToolRun> TestRulesAsync(string testFile) => RunAsync(["test", "rules", testFile]);

    /// <summary><c>promtool check metrics</c> on an exposition: naming, units, help text, as the Prometheus guidelines ask.</summary>
    public static Task<ToolRun> CheckMetricsAsync(string exposition) => RunAsync(["check", "metrics"], exposition);

    private static Task<ToolRun> RunAsync(string[] arguments, string? input = null) =>
        ToolRun.RunAsync(RequiredTools.Find("promtool"), arguments, input, Timeout);
}
