using System.Text.Json.Nodes;

namespace NodeCache.Testing.Kubernetes;

/// <summary>A <c>labelSelector</c> of equality terms as the API server reads them: <c>key=value</c>, <c>key==value</c>, <c>key!=value</c>, <c>key</c> and <c>!key</c>, joined by commas.</summary>
internal sealed class LabelSelector
{
    private readonly List<Func<JsonObject?, bool>> _terms = [];

    public static LabelSelector Parse(string text)
    {
        var selector = new LabelSelector();
        foreach (var term in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (term.Contains("!=", StringComparison.Ordinal))
            {
                var (key, value) = Split(term, "!=");
                selector._terms.Add(labels => Label(labels, key) != value);
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                var (key, value) = Split(term, term.Contains("==", StringComparison.Ordinal) ? "==" : "=");
                selector._terms.Add(labels => Label(labels, key) == value);
            }
            else if (term.StartsWith('!'))
            {
                selector._terms.Add(labels => Label(labels, term[1..]) is null);
            }
            else
            {
                selector._terms.Add(labels => Label(labels, term) is not null);
            }
        }
        return selector;
    }

    public bool Matches(JsonObject item) => _terms.All(term => term(item["metadata"]?["labels"] as JsonObject));

    private static (string Key, string Value) Split(string term, string operation)
    {
        var at = term.IndexOf(operation, StringComparison.Ordinal);
        return (term[..at].Trim(), term[(at + operation.Length)..].Trim());
    }

    private static string? Label(JsonObject? labels, string key) => labels?[key]?.GetValue<string>();
}
