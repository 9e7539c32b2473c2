namespace NodeCache.PerfHarness.Report;

/// <summary>One of the performance goals, the figure measured for it, and whether it was met (null: not measured in this run).</summary>
internal sealed record Goal(string Name, string Target, string Measured, bool? Met);
