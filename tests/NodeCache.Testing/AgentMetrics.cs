using System.Globalization;

namespace NodeCache.Testing;

/// <summary>One scrape of the agent's <c>/metrics</c> (Prometheus text format), for reading counters by name and labels.</summary>
public sealed class AgentMetrics
{
    private readonly List<Sample> _samples;

    private AgentMetrics(string text, List<Sample> samples)
    {
        Text = text;
        _samples = samples;
    }

    public string Text { get; }

    public static async Task<AgentMetrics> ReadAsync(HttpClient http, Uri agent, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync(new Uri(agent, "/metrics"), cancellationToken);
        return new AgentMetrics(text, [.. text.Split('\n').Select(Parse).OfType<Sample>()]);
    }

    /// <summary>The sum over samples of <paramref name="name"/> whose labels include <paramref name="labels"/>; 0 when none was exported yet.</summary>
    public double Value(string name, IReadOnlyDictionary<string, string> labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    /// <summary>Each sample of <paramref name="name"/> with its labels: one series per label set.</summary>
    public IEnumerable<(IReadOnlyDictionary<string, string> Labels, double Value)> Series(string name) =>
        _samples.Where(s => s.Name == name).Select(s => (s.Labels, s.Value));

    public double BlobRequests(string result) => Value("nodecache_requests_total", Labels(("kind", "blob"), ("result", result)));

    public double FillFailures(string reason) => Value("nodecache_fill_failures_total", Labels(("reason", reason)));

    public static IReadOnlyDictionary<string, string> Labels(params (string Name, string Value)[] labels) =>
        labels.ToDictionary(l => l.Name, l => l.Value);

    // name{a="x",b="y"} value [timestamp]; comments and blank lines are skipped. Label values here hold no quotes or commas.
    private static Sample? Parse(string line)
    {
        line = line.Trim();
        if (line.Length == 0 || line.StartsWith('#'))
        {
            return null;
        }
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        string name;
        string rest;
        var brace = line.IndexOf('{');
        if (brace >= 0)
        {
            var close = line.IndexOf('}', brace);
            name = line[..brace];
            foreach (var pair in line[(brace + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                labels[pair[..equals].Trim()] = pair[(equals + 1)..].Trim().Trim('"');
            }
            rest = line[(close + 1)..];
        }
        else
        {
            var space = line.IndexOf(' ');
            name = line[..space];
            rest = line[space..];
        }
        var value = rest.Trim().Split(' ')[0];
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? new Sample(name, labels, number) : null;
    }

    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
