using System.Diagnostics;
using NodeCache.Testing;
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

        var info = new ProcessStartInfo(Kubectl.BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--kubeconfig", kubeconfig, "get", "pods", "--watch", "--output", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase", "--no-headers"])
        {
            info.ArgumentList.Add(argument);
        }
        using var kubectl = Process.Start(info)!;
        var stderr = kubectl.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            async Task<string> NextLineAsync() =>
                (await kubectl.StandardOutput.ReadLineAsync(timeout.Token))?.Trim() ?? throw new InvalidOperationException($"kubectl ended: {await stderr}");
            static string Columns(string line) => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));

            Assert.Equal("first node-a Pending", Columns(await NextLineAsync()));
            api.Apply(KubernetesObjects.Pod("second", ["harbor.test/app:1"]));
            Assert.Equal("second <none> Pending", Columns(await NextLineAsync()));
            api.Update("pods", "default", "second", pod => KubernetesObjects.Bind(pod, "node-b"));
            Assert.Equal("second node-b Pending", Columns(await NextLineAsync()));
            api.Update("pods", "default", "first", pod => KubernetesObjects.SetPhase(pod, "Running"));
            Assert.Equal("first node-a Running", Columns(await NextLineAsync()));

            var requests = api.Requests();
            Assert.Contains(requests, r => r.StartsWith("GET /api/v1/namespaces/default/pods?", StringComparison.Ordinal) && r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=", StringComparison.Ordinal));
        }
        finally
        {
            kubectl.Kill(entireProcessTree: true);
            await kubectl.WaitForExitAsync();
        }
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
