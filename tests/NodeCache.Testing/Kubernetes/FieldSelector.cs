using System.Text.Json.Nodes;

namespace NodeCache.Testing.Kubernetes;

/// <summary>A <c>fieldSelector</c> of <c>path=value</c> and <c>path!=value</c> terms joined by commas, over dotted field paths.</summary>
internal sealed class FieldSelector
{
    private readonly List<(string[] Path, string Value, bool Equal)> _terms = [];

    public static FieldSelector Parse(string text)
    {
        var selector = new FieldSelector();
        foreach (var term in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var notEqual = term.IndexOf("!=", StringComparison.Ordinal);
            var (field, value, equal) = notEqual > 0
                ? (term[..notEqual], term[(notEqual + 2)..], false)
                : (term[..term.IndexOf('=', StringComparison.Ordinal)], term[(term.LastIndexOf('=') + 1)..], true);
            selector._terms.Add((field.Split('.'), value, equal));
        }
        return selector;
    }

    public bool Matches(JsonObject item) => _terms.All(t => (Field(item, t.Path) == t.Value) == t.Equal);

    // A field that is absent reads as empty, as the API server's field sets do (`spec.nodeName=` selects unbound pods).
    private static string Field(JsonObject item, string[] path)
    {
        JsonNode? node = item;
        foreach (var part in path)
        {
            node = node is JsonObject o ? o[part] : null;
        }
        return node is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";
    }
}
