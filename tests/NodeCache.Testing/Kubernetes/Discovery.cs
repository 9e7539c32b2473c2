using System.Text.Json.Nodes;

namespace NodeCache.Testing.Kubernetes;

/// <summary>The discovery documents kubectl reads before it can name a resource.</summary>
internal static class Discovery
{
    public static JsonNode? TryAnswer(string[] path) => string.Join('/', path) switch
    {
        "version" => new JsonObject { ["major"] = "1", ["minor"] = "31", ["gitVersion"] = "v1.31.0", ["platform"] = "linux/amd64" },
        "api" => new JsonObject
        {
            ["kind"] = "APIVersions",
            ["versions"] = new JsonArray("v1"),
            ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = "127.0.0.1" }),
        },
        "apis" => new JsonObject
        {
            ["kind"] = "APIGroupList",
            ["apiVersion"] = "v1",
            ["groups"] = new JsonArray(Group("apps", "v1"), Group("discovery.k8s.io", "v1"), Group("nodecache.io", "v1alpha1")),
        },
        "api/v1" => ResourceList("v1"),
        "apis/apps/v1" => ResourceList("apps/v1"),
        "apis/discovery.k8s.io/v1" => ResourceList("discovery.k8s.io/v1"),
        "apis/nodecache.io/v1alpha1" => ResourceList("nodecache.io/v1alpha1"),
        _ => null,
    };

    private static JsonObject Group(string name, string version) => new()
    {
        ["name"] = name,
        ["versions"] = new JsonArray(new JsonObject { ["groupVersion"] = $"{name}/{version}", ["version"] = version }),
        ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{name}/{version}", ["version"] = version },
    };

    private static JsonObject ResourceList(string groupVersion) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray([.. ResourcePath.All.Where(r => r.ApiVersion == groupVersion).Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Resource,
            ["singularName"] = r.Kind.ToLowerInvariant(),
            ["namespaced"] = r.Namespaced,
            ["kind"] = r.Kind,
            ["verbs"] = new JsonArray("get", "list", "watch"),
        })]),
    };
}
