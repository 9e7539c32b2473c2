using System.Text.Json.Serialization;

namespace NodeCache.Prewarm;

/// <summary>What an ImagePrewarm asks of the nodes it selects: its <c>spec</c>, as the CRD defines it.</summary>
public sealed class PrewarmSpec
{
    /// <summary>Image references as a pod names them.</summary>
    [JsonPropertyName("images")]
    public IList<string> Images { get; set; } = [];

    /// <summary>Labels a node must carry (Kubernetes's matchLabels); empty selects every node.</summary>
    [JsonPropertyName("nodeSelector")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IDictionary<string, string>? NodeSelector { get; set; }

    /// <summary><c>os/arch[/variant]</c> to take from an index; empty means each node's own.</summary>
    [JsonPropertyName("platform")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Platform { get; set; }

    [JsonPropertyName("pin")]
    public bool Pin { get; set; }

    /// <summary>How long after creation the prewarm applies (<see cref="PrewarmTtl"/>); empty is until deleted.</summary>
    [JsonPropertyName("ttl")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ttl { get; set; }

    /// <summary>Whether a node with <paramref name="labels"/> is selected: it carries every label of the selector with the same value.</summary>
    public bool Selects(IDictionary<string, string>? labels) =>
        NodeSelector is null || NodeSelector.All(want => labels is not null && labels.TryGetValue(want.Key, out var value) && value == want.Value);
}
