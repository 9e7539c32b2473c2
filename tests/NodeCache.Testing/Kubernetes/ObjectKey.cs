using System.Text.Json.Nodes;

namespace NodeCache.Testing.Kubernetes;

/// <summary>Which object: its resource (plural, e.g. <c>pods</c>), namespace (null when cluster-scoped) and name.</summary>
internal readonly record struct ObjectKey(string Resource, string? Namespace, string Name)
{
    public static ObjectKey Of(JsonObject item)
    {
        var kind = item["kind"]?.GetValue<string>() ?? throw new ArgumentException("object has no kind");
        var metadata = item["metadata"] as JsonObject ?? throw new ArgumentException("object has no metadata");
        var name = metadata["name"]?.GetValue<string>() ?? throw new ArgumentException("object has no name");
        var resource = ResourcePath.ResourceOfKind(kind);
        return new ObjectKey(resource, ResourcePath.IsNamespaced(resource) ? metadata["namespace"]?.GetValue<string>() ?? "default" : null, name);
    }
}
