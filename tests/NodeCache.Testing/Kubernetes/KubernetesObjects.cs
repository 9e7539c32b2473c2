using System.Text.Json.Nodes;

namespace NodeCache.Testing.Kubernetes;

/// <summary>The Kubernetes objects tests put on <see cref="FakeApiServer"/>, shaped as the real API returns them.</summary>
public static class KubernetesObjects
{
    /// <summary>A node with the well-known os and arch labels the kubelet sets, and <paramref name="labels"/> (<c>key=value</c>) besides.</summary>
    public static JsonObject Node(string name, string architecture = "amd64", string os = "linux", params string[] labels)
    {
        var all = new JsonObject { ["kubernetes.io/os"] = os, ["kubernetes.io/arch"] = architecture, ["kubernetes.io/hostname"] = name };
        foreach (var label in labels)
        {
            all[label[..label.IndexOf('=', StringComparison.Ordinal)]] = label[(label.IndexOf('=', StringComparison.Ordinal) + 1)..];
        }
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = all },
            ["status"] = new JsonObject { ["nodeInfo"] = new JsonObject { ["architecture"] = architecture, ["operatingSystem"] = os } },
        };
    }

    /// <summary>An ImagePrewarm (<c>nodecache.io/v1alpha1</c>) as a cluster admin would apply it.</summary>
    public static JsonObject ImagePrewarm(string name, IReadOnlyList<string> images, IReadOnlyDictionary<string, string>? nodeSelector = null, string? ttl = null, bool pin = false)
    {
        var spec = new JsonObject { ["images"] = new JsonArray([.. images.Select(i => (JsonNode)JsonValue.Create(i))]), ["pin"] = pin };
        if (nodeSelector is not null)
        {
            spec["nodeSelector"] = new JsonObject(nodeSelector.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)JsonValue.Create(l.Value))));
        }
        if (ttl is not null)
        {
            spec["ttl"] = ttl;
        }
        return new JsonObject
        {
            ["apiVersion"] = "nodecache.io/v1alpha1",
            ["kind"] = "ImagePrewarm",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = spec,
        };
    }

    /// <summary>A pod as created: Pending, bound to <paramref name="nodeName"/> or not yet scheduled when null.</summary>
    public static JsonObject Pod(
        string name, IReadOnlyList<string> images, string? nodeName = null, string @namespace = "default", IReadOnlyList<string>? initImages = null,
        IReadOnlyList<string>? pullSecrets = null, string? serviceAccount = null)
    {
        var spec = new JsonObject
        {
            ["containers"] = new JsonArray([.. images.Select((image, i) => (JsonNode)Container($"c{i}", image))]),
        };
        if (initImages is { Count: > 0 })
        {
            spec["initContainers"] = new JsonArray([.. initImages.Select((image, i) => (JsonNode)Container($"init{i}", image))]);
        }
        if (nodeName is not null)
        {
            spec["nodeName"] = nodeName;
        }
        if (pullSecrets is { Count: > 0 })
        {
            spec["imagePullSecrets"] = new JsonArray([.. pullSecrets.Select(s => (JsonNode)new JsonObject { ["name"] = s })]);
        }
        if (serviceAccount is not null)
        {
            spec["serviceAccountName"] = serviceAccount;
        }
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace },
            ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = "Pending" },
        };
    }

    /// <summary>Binds a pod to a node, as the scheduler's Binding does: the watch sees a MODIFIED pod with spec.nodeName.</summary>
    public static void Bind(JsonObject pod, string nodeName) => pod["spec"]!["nodeName"] = nodeName;

    public static void SetPhase(JsonObject pod, string phase) => pod["status"]!["phase"] = phase;

    /// <summary>Makes a pod one of a Deployment's, as its ReplicaSet creates them: owned by <c>NAME-HASH</c>, labelled with the hash.</summary>
    public static JsonObject OwnedByDeployment(JsonObject pod, string deployment, string templateHash)
    {
        var metadata = (JsonObject)pod["metadata"]!;
        metadata["labels"] = new JsonObject { ["app"] = deployment, ["pod-template-hash"] = templateHash };
        metadata["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["name"] = $"{deployment}-{templateHash}",
            ["uid"] = Guid.NewGuid().ToString(),
            ["controller"] = true,
        });
        return pod;
    }

    /// <summary>A Deployment whose pod template runs <paramref name="images"/>.</summary>
    public static JsonObject Deployment(string name, IReadOnlyList<string> images, string @namespace = "default") => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace },
        ["spec"] = new JsonObject
        {
            ["replicas"] = 1,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray([.. images.Select((image, i) => (JsonNode)Container($"c{i}", image))]) },
            },
        },
    };

    /// <summary>Points a Deployment's pod template at new images: a rolling update begins.</summary>
    public static void SetTemplateImages(JsonObject workload, IReadOnlyList<string> images) =>
        workload["spec"]!["template"]!["spec"]!["containers"] = new JsonArray([.. images.Select((image, i) => (JsonNode)Container($"c{i}", image))]);

    /// <summary>Marks an unbound pod as nominated for a node, as the scheduler does while it preempts room for it.</summary>
    public static void Nominate(JsonObject pod, string nodeName) => pod["status"]!["nominatedNodeName"] = nodeName;

    /// <summary>A <c>kubernetes.io/dockerconfigjson</c> Secret holding one registry's username and password, as <c>kubectl create secret docker-registry</c> writes it.</summary>
    public static JsonObject PullSecret(string name, string registry, string username, string password, string @namespace = "default")
    {
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{username}:{password}"));
        var config = new JsonObject
        {
            ["auths"] = new JsonObject { [registry] = new JsonObject { ["username"] = username, ["password"] = password, ["auth"] = auth } },
        }.ToJsonString();
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace },
            ["type"] = "kubernetes.io/dockerconfigjson",
            ["data"] = new JsonObject { [".dockerconfigjson"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(config)) },
        };
    }

    /// <summary>A service account whose pods get <paramref name="pullSecrets"/> as well.</summary>
    public static JsonObject ServiceAccount(string name, IReadOnlyList<string> pullSecrets, string @namespace = "default") => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ServiceAccount",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace },
        ["imagePullSecrets"] = new JsonArray([.. pullSecrets.Select(s => (JsonNode)new JsonObject { ["name"] = s })]),
    };

    /// <summary>A headless Service (<c>clusterIP: None</c>) selecting the pods labelled <c>app=&lt;selectorApp&gt;</c>, with one named TCP port.</summary>
    public static JsonObject HeadlessService(string name, string @namespace, string selectorApp, string portName, int port) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Service",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace },
        ["spec"] = new JsonObject
        {
            ["clusterIP"] = "None",
            ["selector"] = new JsonObject { ["app"] = selectorApp },
            ["ports"] = new JsonArray(new JsonObject { ["name"] = portName, ["port"] = port, ["targetPort"] = port, ["protocol"] = "TCP" }),
            ["publishNotReadyAddresses"] = false,
        },
    };

    /// <summary>
    /// An EndpointSlice (<c>discovery.k8s.io/v1</c>) of <paramref name="service"/>, labelled and owned as the endpoint-slice
    /// controller makes them: <c>kubernetes.io/service-name</c> names the Service, and every endpoint shares the slice's port.
    /// </summary>
    public static JsonObject EndpointSlice(string name, string @namespace, string service, string portName, int port, IEnumerable<SliceEndpoint> endpoints) => new()
    {
        ["apiVersion"] = "discovery.k8s.io/v1",
        ["kind"] = "EndpointSlice",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = @namespace,
            ["labels"] = new JsonObject
            {
                ["kubernetes.io/service-name"] = service,
                ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io",
                ["service.kubernetes.io/headless"] = "",
            },
            ["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Service",
                ["name"] = service,
                ["controller"] = true,
                ["blockOwnerDeletion"] = true,
            }),
        },
        ["addressType"] = "IPv4",
        ["endpoints"] = new JsonArray([.. endpoints.Select(e => (JsonNode)Endpoint(e, @namespace))]),
        ["ports"] = new JsonArray(new JsonObject { ["name"] = portName, ["port"] = port, ["protocol"] = "TCP" }),
    };

    private static JsonObject Endpoint(SliceEndpoint endpoint, string @namespace)
    {
        var entry = new JsonObject
        {
            ["addresses"] = new JsonArray(endpoint.Address),
            ["conditions"] = new JsonObject { ["ready"] = endpoint.Ready, ["serving"] = endpoint.Serving, ["terminating"] = endpoint.Terminating },
            ["nodeName"] = endpoint.NodeName,
            ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["namespace"] = @namespace, ["name"] = endpoint.PodName },
        };
        if (endpoint.Zone is not null)
        {
            entry["zone"] = endpoint.Zone;
        }
        return entry;
    }

    private static JsonObject Container(string name, string image) => new() { ["name"] = name, ["image"] = image };
}
