namespace NodeCache.PerfHarness.Report;

/// <summary>
/// One series over another, taken within each repetition (the two ran minutes apart at most, on the same machine state)
/// and then the median of those: never a ratio of medians taken at different moments. Shown on the row of its numerator.
/// </summary>
internal sealed record Ratio(string Case, string Metric, string Label, IReadOnlyList<double> PerRepetition, double Median);
