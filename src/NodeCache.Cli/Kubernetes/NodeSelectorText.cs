namespace NodeCache.Cli.Kubernetes;

/// <summary><c>--selector key=value[,key=value]</c>: the node labels an ImagePrewarm selects, as <c>nodeSelector</c> and as a label selector for listing the nodes.</summary>
internal static class NodeSelectorText
{
    public static Dictionary<string, string> Parse(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var term in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = term.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || term.Contains("!=", StringComparison.Ordinal))
            {
                throw new CliFailure(ExitCode.Usage, $"--selector '{text}': expected key=value[,key=value] (a node must carry every label)");
            }
            labels[term[..equals].Trim()] = term[(equals + 1)..].Trim();
        }
        if (labels.Count == 0)
        {
            throw new CliFailure(ExitCode.Usage, "--selector: name at least one key=value (or use --all-nodes)");
        }
        return labels;
    }

    public static string Format(IEnumerable<KeyValuePair<string, string>> labels) => string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"));
}
