using NodeCache.Testing;
using NodeCache.Testing.Cluster;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Kubernetes;

/// <summary>The fake API server checked with a real client: kubectl lists and watches it as it would a cluster.</summary>
public sealed class FakeApiServerTests
{
    [Fact]
    public async Task Kubectl_get_pods_watch_lists_then_streams_added_modified_and_deleted_pods()
    {
        await using var api = await FakeApiServer.StartAsync();
        using var folder = TempFolder.Create("kubectl");
        var kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        api.Apply(KubernetesObjects.Pod("first", ["harbor.test/app:1"], "node-a"));

        await using var kubectl = KubectlWatch.Start(kubeconfig, "get", "pods", "--watch", "--output", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase", "--no-headers");

        Assert.Equal("first node-a Pending", await kubectl.NextLineAsync());
        api.Apply(KubernetesObjects.Pod("second", ["harbor.test/app:1"]));
        Assert.Equal("second <none> Pending", await kubectl.NextLineAsync());
        api.Update("pods", "default", "second", pod => KubernetesObjects.Bind(pod, "node-b"));
        Assert.Equal("second node-b Pending", await kubectl.NextLineAsync());
        api.Update("pods", "default", "first", pod => KubernetesObjects.SetPhase(pod, "Running"));
        Assert.Equal("first node-a Running", await kubectl.NextLineAsync());

        var requests = api.Requests();
        Assert.Contains(requests, r => r.StartsWith("GET /api/v1/namespaces/default/pods?", StringComparison.Ordinal) && r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubectl_watches_the_endpoint_slices_of_one_service_as_endpoints_turn_ready_spill_into_a_second_slice_and_leave()
    {
        await using var api = await FakeApiServer.StartAsync();
        using var folder = TempFolder.Create("kubectl");
        var kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        var endpoints = new DaemonSetEndpoints(api, "nodecache", "nodecache", "peer", 5051, endpointsPerSlice: 2);
        var other = new DaemonSetEndpoints(api, "nodecache", "other", "http", 80);
        other.Set(new SliceEndpoint("198.18.0.99", "node-9", null, "other-9", Ready: true));
        endpoints.Set(new SliceEndpoint("198.18.0.11", "node-1", "zone-a", "nodecache-1", Ready: true));

        await using var kubectl = KubectlWatch.Start(
            kubeconfig, "get", "endpointslices", "--namespace", "nodecache", "--selector", "kubernetes.io/service-name=nodecache", "--watch", "--output-watch-events", "--no-headers",
            // With --output-watch-events each line is a watch event: its type, and the slice under "object".
            "--output", "custom-columns=EVENT:.type,NAME:.object.metadata.name,ADDRESSES:.object.endpoints[*].addresses[0],READY:.object.endpoints[*].conditions.ready,NODES:.object.endpoints[*].nodeName,PORT:.object.ports[0].port");

        Assert.Equal("ADDED nodecache-00000 198.18.0.11 true node-1 5051", await kubectl.NextLineAsync());
        endpoints.Set(new SliceEndpoint("198.18.0.12", "node-2", "zone-a", "nodecache-2", Ready: false));
        Assert.Equal("MODIFIED nodecache-00000 198.18.0.11,198.18.0.12 true,false node-1,node-2 5051", await kubectl.NextLineAsync());
        endpoints.Set(new SliceEndpoint("198.18.0.12", "node-2", "zone-a", "nodecache-2", Ready: true));
        Assert.Equal("MODIFIED nodecache-00000 198.18.0.11,198.18.0.12 true,true node-1,node-2 5051", await kubectl.NextLineAsync());
        endpoints.Set(new SliceEndpoint("198.18.0.13", "node-3", "zone-b", "nodecache-3", Ready: true));
        Assert.Equal("ADDED nodecache-00001 198.18.0.13 true node-3 5051", await kubectl.NextLineAsync());
        endpoints.Remove("node-3");
        Assert.Equal("DELETED nodecache-00001 198.18.0.13 true node-3 5051", await kubectl.NextLineAsync());

        var service = await ToolRun.RunAsync(Kubectl.BinaryPath, ["--kubeconfig", kubeconfig, "get", "service", "nodecache", "--namespace", "nodecache", "--output", "jsonpath={.spec.clusterIP}"], TimeSpan.FromSeconds(30));
        Assert.Equal("None", service.EnsureSucceeded().Stdout.Trim());
        Assert.Contains(api.Requests(), r => r.StartsWith("GET /apis/discovery.k8s.io/v1/namespaces/nodecache/endpointslices?", StringComparison.Ordinal) && r.Contains("watch=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubectl_creates_image_prewarms_merge_patches_their_status_per_node_and_selects_nodes_by_label()
    {
        await using var api = await FakeApiServer.StartAsync();
        using var folder = TempFolder.Create("kubectl");
        var kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        api.Apply(KubernetesObjects.Node("node-a", labels: "pool=gpu"));
        api.Apply(KubernetesObjects.Node("node-b", labels: "pool=cpu"));
        var manifest = folder.Combine("prewarm.json");
        await File.WriteAllTextAsync(manifest, KubernetesObjects.ImagePrewarm("warm", ["harbor.test/app:1"], new Dictionary<string, string> { ["pool"] = "gpu" }).ToJsonString());
        Task<ToolRun> KubectlAsync(params string[] arguments) => ToolRun.RunAsync(Kubectl.BinaryPath, ["--kubeconfig", kubeconfig, .. arguments], TimeSpan.FromSeconds(30));

        var selected = await KubectlAsync("get", "nodes", "-l", "pool=gpu", "-o", "name");
        var created = await KubectlAsync("create", "--validate=false", "-f", manifest);
        var readyA = await KubectlAsync("patch", "imageprewarm", "warm", "--subresource=status", "--type=merge", "-p", """{"status":{"nodes":{"node-a":{"phase":"Ready"}}}}""");
        var pullingB = await KubectlAsync("patch", "imageprewarm", "warm", "--subresource=status", "--type=merge", "-p", """{"status":{"nodes":{"node-b":{"phase":"Pulling"}}}}""");
        var statusOnly = api.Get("imageprewarms", null, "warm")!;
        var specChange = await KubectlAsync("patch", "imageprewarm", "warm", "--type=merge", "-p", """{"spec":{"pin":true},"status":{"nodes":null}}""");
        var changed = api.Get("imageprewarms", null, "warm")!;
        var deleted = await KubectlAsync("delete", "imageprewarm", "warm");

        Assert.True(selected.Succeeded, selected.Stderr);
        Assert.Equal("node/node-a", selected.Stdout.Trim());
        Assert.True(created.Succeeded, created.Stderr);
        Assert.Equal("imageprewarm.nodecache.io/warm created", created.Stdout.Trim());
        Assert.True(readyA.Succeeded && pullingB.Succeeded, readyA.Stderr + pullingB.Stderr);
        // Two merge patches, one per node: neither removes the other's entry, and status changes leave the generation alone.
        Assert.Equal("Ready", statusOnly["status"]!["nodes"]!["node-a"]!["phase"]!.GetValue<string>());
        Assert.Equal("Pulling", statusOnly["status"]!["nodes"]!["node-b"]!["phase"]!.GetValue<string>());
        Assert.Equal(1, statusOnly["metadata"]!["generation"]!.GetValue<long>());
        // A patch of the object changes its spec (and generation), never its status.
        Assert.True(specChange.Succeeded, specChange.Stderr);
        Assert.True(changed["spec"]!["pin"]!.GetValue<bool>());
        Assert.Equal(2, changed["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal("Ready", changed["status"]!["nodes"]!["node-a"]!["phase"]!.GetValue<string>());
        Assert.True(deleted.Succeeded, deleted.Stderr);
        Assert.Null(api.Get("imageprewarms", null, "warm"));
    }
}
