using System.Text.Json.Nodes;

namespace NodeCache.Testing.Kubernetes;

/// <summary>JSON merge patch (RFC 7386, <c>application/merge-patch+json</c>): objects merge key by key, <c>null</c> removes a key, anything else replaces.</summary>
internal static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject changes)
        {
            return patch?.DeepClone();
        }
        var result = target as JsonObject is { } existing ? (JsonObject)existing.DeepClone() : new JsonObject();
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Apply(result[key], value);
            }
        }
        return result;
    }
}
