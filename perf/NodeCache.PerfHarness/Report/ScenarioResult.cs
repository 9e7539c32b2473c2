using NodeCache.PerfHarness.Measurement;

namespace NodeCache.PerfHarness.Report;

/// <summary>The figures of one scenario: series keyed by (case, peer, metric), the ratios asked of them, and notes for the reader.</summary>
internal sealed class ScenarioResult(string name, string title, IReadOnlyList<string> peers)
{
    private readonly List<Series> _series = [];
    private readonly List<Ratio> _ratios = [];
    private readonly List<string> _notes = [];

    public string Name { get; } = name;

    public string Title { get; } = title;

    /// <summary>Column order of the table.</summary>
    public IReadOnlyList<string> Peers { get; } = peers;

    public IReadOnlyList<Series> Series => _series;

    public IReadOnlyList<Ratio> Ratios => _ratios;

    public IReadOnlyList<string> Notes => _notes;

    public void Add(string @case, string peer, string metric, string unit, double value)
    {
        var series = Find(@case, peer, metric);
        if (series is null)
        {
            series = new Series(@case, peer, metric, unit);
            _series.Add(series);
        }
        series.Add(value);
    }

    public Series? Find(string @case, string peer, string metric) =>
        _series.Find(s => s.Case == @case && s.Peer == peer && s.Metric == metric);

    /// <summary>Adds numerator / denominator of one case and metric, the default label naming the two peers.</summary>
    public Ratio? AddRatio(string @case, string metric, string numerator, string denominator) =>
        AddRatio(@case, metric, numerator, @case, metric, denominator, $"{numerator} / {denominator}");

    /// <summary>Adds (and returns) one series over another, paired repetition by repetition; null when either was not measured.</summary>
    public Ratio? AddRatio(string @case, string metric, string numerator, string denominatorCase, string denominatorMetric, string denominator, string label)
    {
        var top = Find(@case, numerator, metric);
        var bottom = Find(denominatorCase, denominator, denominatorMetric);
        if (top is null || bottom is null)
        {
            return null;
        }
        var pairs = top.Values.Zip(bottom.Values, (t, b) => b == 0 ? double.NaN : t / b).ToArray();
        var ratio = new Ratio(@case, metric, label, pairs, Percentiles.Median(pairs));
        _ratios.Add(ratio);
        return ratio;
    }

    public Ratio? FindRatio(string @case, string metric, string label) =>
        _ratios.Find(r => r.Case == @case && r.Metric == metric && r.Label == label);

    public void Note(string note) => _notes.Add(note);
}
