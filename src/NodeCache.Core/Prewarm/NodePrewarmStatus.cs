using System.Text.Json.Serialization;

namespace NodeCache.Prewarm;

/// <summary>Where one node is with an ImagePrewarm.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodePrewarmPhase>))]
public enum NodePrewarmPhase
{
    /// <summary>Selected, not started yet.</summary>
    Pending,
    Pulling,
    /// <summary>Every image is in the node's cache.</summary>
    Ready,
    /// <summary>At least one image could not be fetched; the message says why.</summary>
    Failed,
    /// <summary>The TTL has passed: the node no longer applies it (its pins are released).</summary>
    Expired,
}

/// <summary>One node's entry in an ImagePrewarm's <c>status.nodes</c>, written only by that node's agent.</summary>
public sealed class NodePrewarmStatus
{
    [JsonPropertyName("phase")]
    public NodePrewarmPhase Phase { get; set; }

    /// <summary>The <c>metadata.generation</c> of the spec this entry is about: a changed spec is fulfilled again.</summary>
    [JsonPropertyName("observedGeneration")]
    public long ObservedGeneration { get; set; }

    [JsonPropertyName("imagesReady")]
    public int ImagesReady { get; set; }

    /// <summary>Bytes this node fetched from upstream for the prewarm (blobs already cached cost none).</summary>
    [JsonPropertyName("bytesFetched")]
    public long BytesFetched { get; set; }

    /// <summary>The manifest digests this node pinned for the prewarm (with <c>spec.pin</c>), released when it expires or is deleted.</summary>
    [JsonPropertyName("pinned")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IList<string>? Pinned { get; set; }

    [JsonPropertyName("message")]
    public string Message { get; set; } = "";

    [JsonPropertyName("lastUpdate")]
    public DateTimeOffset LastUpdate { get; set; }

    /// <summary>True once the node has finished with the prewarm, well or not.</summary>
    [JsonIgnore]
    public bool IsFinal => Phase is NodePrewarmPhase.Ready or NodePrewarmPhase.Failed or NodePrewarmPhase.Expired;
}
