using System.Text.Json.Nodes;

namespace NodeCache.Testing.Kubernetes;

/// <summary>
/// A request path decoded: <c>/api/v1[/namespaces/NS]/RESOURCE[/NAME[/status]]</c> or the same under <c>/apis/GROUP/VERSION</c>
/// (<c>apps/v1</c>, <c>discovery.k8s.io/v1</c>, and the <c>nodecache.io/v1alpha1</c> custom resources).
/// </summary>
internal sealed record ResourcePath(string ApiVersion, string Resource, string? Namespace, string? Name, string? Subresource = null)
{
    private static readonly Dictionary<string, (string Kind, string ApiVersion, bool Namespaced)> Resources = new(StringComparer.Ordinal)
    {
        ["pods"] = ("Pod", "v1", true),
        ["nodes"] = ("Node", "v1", false),
        ["secrets"] = ("Secret", "v1", true),
        ["serviceaccounts"] = ("ServiceAccount", "v1", true),
        ["namespaces"] = ("Namespace", "v1", false),
        ["deployments"] = ("Deployment", "apps/v1", true),
        ["statefulsets"] = ("StatefulSet", "apps/v1", true),
        ["daemonsets"] = ("DaemonSet", "apps/v1", true),
        ["replicasets"] = ("ReplicaSet", "apps/v1", true),
        ["imageprewarms"] = ("ImagePrewarm", "nodecache.io/v1alpha1", false),
        ["services"] = ("Service", "v1", true),
        ["endpointslices"] = ("EndpointSlice", "discovery.k8s.io/v1", true),
    };

    public string Kind => Resources[Resource].Kind;

    public string ListKind => Kind + "List";

    public static IEnumerable<(string Resource, string Kind, string ApiVersion, bool Namespaced)> All =>
        Resources.Select(r => (r.Key, r.Value.Kind, r.Value.ApiVersion, r.Value.Namespaced));

    public static string ResourceOfKind(string kind) =>
        Resources.First(r => r.Value.Kind == kind).Key;

    public static bool IsNamespaced(string resource) => Resources[resource].Namespaced;

    public bool Covers(ObjectKey key) => key.Resource == Resource && (Namespace is null || key.Namespace == Namespace);

    public static bool TryParse(string[] path, out ResourcePath target)
    {
        target = null!;
        int rest;
        string apiVersion;
        if (path.Length >= 3 && path[0] == "api" && path[1] == "v1")
        {
            apiVersion = "v1";
            rest = 2;
        }
        else if (path.Length >= 4 && path[0] == "apis" && Resources.Values.Any(r => r.ApiVersion == $"{path[1]}/{path[2]}"))
        {
            apiVersion = $"{path[1]}/{path[2]}";
            rest = 3;
        }
        else
        {
            return false;
        }
        string? @namespace = null;
        if (path.Length - rest >= 3 && path[rest] == "namespaces")
        {
            @namespace = path[rest + 1];
            rest += 2;
        }
        if (path.Length - rest is < 1 or > 3 || !Resources.TryGetValue(path[rest], out var known) || known.ApiVersion != apiVersion
            || (path.Length - rest == 3 && path[rest + 2] != "status"))
        {
            return false;
        }
        target = new ResourcePath(apiVersion, path[rest], @namespace, path.Length - rest >= 2 ? path[rest + 1] : null, path.Length - rest == 3 ? "status" : null);
        return true;
    }
}
