using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using NodeCache.Prewarm;

namespace NodeCache.Kubernetes;

/// <summary>
/// The <c>ImagePrewarm</c> custom resource (<c>nodecache.io/v1alpha1</c>, cluster-scoped) as the API serves it. The agent
/// and the CLI both use this one definition, so both read and write the same shape.
/// </summary>
public sealed class ImagePrewarmResource : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "nodecache.io";
    public const string Version = "v1alpha1";
    public const string Plural = "imageprewarms";
    public const string ResourceKind = "ImagePrewarm";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{Group}/{Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = ResourceKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public PrewarmSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImagePrewarmStatus? Status { get; set; }

    /// <summary>A watch of ImagePrewarms as typed objects: the client watches custom objects as untyped JSON.</summary>
    public static async IAsyncEnumerable<(WatchEventType Type, ImagePrewarmResource Item)> Typed(IAsyncEnumerable<(WatchEventType, object)> events)
    {
        await foreach (var (type, item) in events.ConfigureAwait(false))
        {
            yield return (type, KubernetesJson.Deserialize<ImagePrewarmResource>(((JsonElement)item).GetRawText()));
        }
    }

    /// <summary>The entry <paramref name="node"/> wrote, if any.</summary>
    public NodePrewarmStatus? StatusOf(string node) => Status?.Nodes is { } nodes && nodes.TryGetValue(node, out var entry) ? entry : null;
}

/// <summary>An ImagePrewarm's <c>status</c>: an entry per node, keyed by node name so that each node's merge patch touches its own key only.</summary>
public sealed class ImagePrewarmStatus
{
    [JsonPropertyName("imageCount")]
    public int ImageCount { get; set; }

    [JsonPropertyName("nodes")]
    public IDictionary<string, NodePrewarmStatus>? Nodes { get; set; }
}

/// <summary>A list of ImagePrewarms, as <c>GET /apis/nodecache.io/v1alpha1/imageprewarms</c> answers.</summary>
public sealed class ImagePrewarmList : IItems<ImagePrewarmResource>, IMetadata<V1ListMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{ImagePrewarmResource.Group}/{ImagePrewarmResource.Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ImagePrewarmList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<ImagePrewarmResource> Items { get; set; } = [];
}
