using NodeCache.PerfHarness.Measurement;

namespace NodeCache.PerfHarness.Report;

/// <summary>One figure (a metric of one peer in one case) with its value from each repetition.</summary>
internal sealed class Series(string @case, string peer, string metric, string unit)
{
    private readonly List<double> _values = [];

    public string Case { get; } = @case;

    public string Peer { get; } = peer;

    public string Metric { get; } = metric;

    public string Unit { get; } = unit;

    /// <summary>In repetition order: the ratio of two series pairs their values repetition by repetition.</summary>
    public IReadOnlyList<double> Values => _values;

    public double Median => Percentiles.Median(_values);

    public void Add(double value) => _values.Add(value);
}
