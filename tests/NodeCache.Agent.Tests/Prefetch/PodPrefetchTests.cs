using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Prefetch;

/// <summary>The real agent watching the fake API server prefetches the images of the pods bound to its node from the real registry.</summary>
public sealed class PodPrefetchTests
{
    private const string Node = PrefetchScenario.NodeName;
    private static readonly long[] SmallLayers = [64 * OciImageBuilder.KiB, 32 * OciImageBuilder.KiB];

    [Fact]
    public async Task Pod_created_unbound_is_prefetched_once_bound_to_this_node_and_pods_of_other_nodes_are_not()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 301);
        var mine = await scenario.PushImageAsync("team/web", SmallLayers);
        var theirs = await scenario.PushImageAsync("team/other", SmallLayers);

        scenario.Api.Apply(KubernetesObjects.Pod("elsewhere", [theirs.Reference(PrefetchScenario.Namespace)], "node-2"));
        scenario.Api.Apply(KubernetesObjects.Pod("web", [mine.Reference(PrefetchScenario.Namespace)]));
        await Task.Delay(500);
        Assert.False(scenario.IsCached(mine.ManifestDigest), "a pod the scheduler has not bound yet is not this node's");

        scenario.Api.Update("pods", "default", "web", pod => KubernetesObjects.Bind(pod, Node));
        await scenario.WaitCachedAsync(mine, "the bound pod's image is cached");

        Assert.All(await scenario.BlobGetsAsync(mine), gets => Assert.Equal(1, gets));
        Assert.False(scenario.IsCached(theirs.ManifestDigest), "a pod bound to another node is not prefetched here");
        Assert.All(await scenario.BlobGetsAsync(theirs), gets => Assert.Equal(0, gets));
    }

    [Fact]
    public async Task A_kubeconfig_whose_user_has_no_credentials_is_accepted_as_kubectl_accepts_it()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 309, anonymousKubeconfig: true);
        var image = await scenario.PushImageAsync("team/anonymous", SmallLayers);

        var kubectl = await ToolRun.RunAsync(Kubectl.BinaryPath, ["--kubeconfig", scenario.Kubeconfig, "get", "nodes", "-o", "name"], TimeSpan.FromMinutes(1));
        scenario.Api.Apply(KubernetesObjects.Pod("web", [image.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitCachedAsync(image, "the pod's image is cached");

        Assert.True(kubectl.Succeeded, kubectl.Stderr);
        Assert.Equal($"node/{Node}", kubectl.Stdout.Trim());
    }

    [Fact]
    public async Task Watch_resumes_from_the_last_version_or_bookmark_after_a_dropped_connection_and_misses_no_pod()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 302);
        var first = await scenario.PushImageAsync("team/first", SmallLayers);
        var second = await scenario.PushImageAsync("team/second", SmallLayers);
        scenario.Api.Apply(KubernetesObjects.Pod("first", [first.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitCachedAsync(first, "the first pod's image is cached");
        // A change this watch does not see moves the version on; only a BOOKMARK tells the agent.
        var unseen = scenario.Api.Apply(KubernetesObjects.Pod("elsewhere", ["harbor.test/team/other:1"], "node-2"));
        await Task.Delay(scenario.Api.BookmarkInterval * 2);

        // The pod appears while the agent is cut off: it must come from the watch resumed at the version last seen.
        scenario.Api.Unavailable = true;
        scenario.Api.DropWatches();
        scenario.Api.Apply(KubernetesObjects.Pod("second", [second.Reference(PrefetchScenario.Namespace)], Node));
        await Task.Delay(300);
        scenario.Api.Unavailable = false;
        await scenario.WaitCachedAsync(second, "the second pod's image is cached after the reconnection");

        var requests = scenario.Api.Requests().Where(r => r.StartsWith("GET /api/v1/pods?", StringComparison.Ordinal) && r.Contains("spec.nodeName%3Dnode-1", StringComparison.Ordinal)).ToList();
        Assert.Single(requests, r => !r.Contains("watch=true", StringComparison.Ordinal));
        Assert.True(requests.Count(r => r.Contains("watch=true", StringComparison.Ordinal) && r.Contains("resourceVersion=1", StringComparison.Ordinal)) >= 2,
            string.Join('\n', requests));
        Assert.Contains(requests, r => r.Contains($"resourceVersion={unseen}&", StringComparison.Ordinal) && r.Contains("watch=true", StringComparison.Ordinal));
        Assert.All(await scenario.BlobGetsAsync(first), gets => Assert.Equal(1, gets));
        Assert.All(await scenario.BlobGetsAsync(second), gets => Assert.Equal(1, gets));
        Assert.Equal(1, scenario.LogLines($"Prefetched {first.Reference(PrefetchScenario.Namespace)}"));
    }

    [Fact]
    public async Task Watch_lists_again_after_410_Gone_and_prefetches_each_image_once()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 303);
        var first = await scenario.PushImageAsync("team/first", SmallLayers);
        var second = await scenario.PushImageAsync("team/second", SmallLayers);
        scenario.Api.Apply(KubernetesObjects.Pod("first", [first.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitCachedAsync(first, "the first pod's image is cached");

        // While the agent is away its version is compacted away: resuming gets 410 Gone, and only a new list finds the pod.
        scenario.Api.Unavailable = true;
        scenario.Api.DropWatches();
        scenario.Api.Apply(KubernetesObjects.Pod("second", [second.Reference(PrefetchScenario.Namespace)], Node));
        scenario.Api.Compact();
        await Task.Delay(300);
        scenario.Api.Unavailable = false;
        await scenario.WaitForLogAsync($"Prefetched {second.Reference(PrefetchScenario.Namespace)}", "the second pod's image is prefetched after the relist");
        await scenario.WaitForLogAsync("410 Gone; listing again", "the agent reports the 410");

        var lists = scenario.Api.Requests().Where(r => r.StartsWith("GET /api/v1/pods?", StringComparison.Ordinal) && r.Contains("spec.nodeName%3Dnode-1", StringComparison.Ordinal) && !r.Contains("watch=true", StringComparison.Ordinal));
        Assert.Equal(2, lists.Count());
        Assert.All(await scenario.BlobGetsAsync(first), gets => Assert.Equal(1, gets));
        Assert.All(await scenario.BlobGetsAsync(second), gets => Assert.Equal(1, gets));
        Assert.Equal(1, scenario.LogLines($"Prefetched {first.Reference(PrefetchScenario.Namespace)}"));
        Assert.Equal(1, scenario.LogLines($"Prefetched {second.Reference(PrefetchScenario.Namespace)}"));
    }

    [Fact]
    public async Task Multi_arch_image_on_an_arm64_node_caches_the_arm64_manifest_and_layers_only()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 304, architecture: "arm64");
        var index = await scenario.Builder.BuildIndexAsync("team/multi", "1", SmallLayers);
        await OciPusher.For(scenario.Registry).PushAsync(index);
        var arm64 = index.ForArchitecture("arm64");
        var amd64 = index.ForArchitecture("amd64");

        scenario.Api.Apply(KubernetesObjects.Pod("multi", [index.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitUntilAsync(() => scenario.IsCached(index.IndexDigest) && scenario.IsCached(arm64), "the index and the arm64 image are cached");

        Assert.False(scenario.IsCached(amd64.ManifestDigest));
        Assert.All(amd64.Blobs, blob => Assert.False(scenario.IsCached(blob.Digest), $"amd64 blob {blob.Digest} is cached"));
        Assert.All(await scenario.BlobGetsAsync(amd64), gets => Assert.Equal(0, gets));
    }

    [Fact]
    public async Task Pod_deleted_before_its_prefetch_ends_leaves_its_remaining_layers_unfetched()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 305, agentArguments: ["--prefetch-bandwidth", "256KiB/s", "--prefetch-concurrency", "1"]);
        var image = await scenario.PushImageAsync("team/big", [.. Enumerable.Repeat(512 * OciImageBuilder.KiB, 5)]);
        scenario.Api.Apply(KubernetesObjects.Pod("big", [image.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitUntilAsync(() => scenario.IsCached(image.Layers[0].Digest), "the first layer is cached");

        scenario.Api.Delete("pods", "default", "big");
        await scenario.WaitForLogAsync("stopped: no pod on this node wants it", "the prefetch stops");
        await Task.Delay(500);

        Assert.False(scenario.IsCached(image.Layers[^1].Digest), "the last layer was fetched for a pod that is gone");
        Assert.Equal(0, await scenario.Registry.CountBlobGetsAsync(image.Layers[^1].Digest));
        var metrics = await scenario.MetricsAsync();
        Assert.Equal(1, metrics.Value("nodecache_prefetched_images_total", AgentMetrics.Labels(("result", "cancelled"))));
    }

    [Fact]
    public async Task Pull_arriving_mid_prefetch_joins_its_fill_instead_of_starting_another()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 306, agentArguments: ["--prefetch-bandwidth", "512KiB/s"]);
        var image = await scenario.PushImageAsync("team/join", [2 * OciImageBuilder.MiB]);
        var layer = image.Layers[0];
        scenario.Api.Apply(KubernetesObjects.Pod("join", [image.Reference(PrefetchScenario.Namespace)], Node));
        var temp = Path.Combine(scenario.Agent.CacheDir, "tmp");
        await scenario.WaitUntilAsync(() => Directory.Exists(temp) && Directory.GetFiles(temp, layer.Digest.Hex + ".*").Length > 0, "the layer's fill is under way");

        using var response = await scenario.Http.GetAsync(new Uri(scenario.Agent.BaseUri, $"/v2/{image.Repository}/blobs/{layer.Digest}?ns={PrefetchScenario.Namespace}"));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(layer.Digest, NodeCache.Oci.Digest.Compute(body));
        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest));
        var metrics = await scenario.MetricsAsync();
        Assert.Equal(1, metrics.BlobRequests("coalesced"));
    }

    [Fact]
    public async Task Image_already_pulled_through_the_mirror_costs_no_upstream_request_to_prefetch()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 307);
        var image = await scenario.PushImageAsync("team/warm", SmallLayers);
        foreach (var (kind, reference) in new[] { ("manifests", image.Tag!) }.Concat(image.Blobs.Select(b => ("blobs", b.Digest.ToString()))))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(scenario.Agent.BaseUri, $"/v2/{image.Repository}/{kind}/{reference}?ns={PrefetchScenario.Namespace}"));
            request.Headers.TryAddWithoutValidation("Accept", image.ManifestMediaType);
            using var response = await scenario.Http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
        await scenario.Registry.FlushLogAsync();
        var before = (await scenario.Registry.RequestsAsync()).Count;

        scenario.Api.Apply(KubernetesObjects.Pod("warm", [image.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitForLogAsync($"Prefetched {image.Reference(PrefetchScenario.Namespace)}", "the prefetch ends");

        await scenario.Registry.FlushLogAsync();
        var after = await scenario.Registry.RequestsAsync();
        Assert.Equal(before, after.Count);
        Assert.Equal(1, scenario.LogLines($"{image.Blobs.Count} already cached, 0 bytes fetched"));
    }

    [Fact]
    public async Task Pending_pods_are_prefetched_oldest_first_whatever_order_they_arrive_in()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 308, agentArguments: ["--prefetch-concurrency", "1", "--prefetch-bandwidth", "1MiB/s"]);
        var blocker = await scenario.PushImageAsync("team/blocker", [1 * OciImageBuilder.MiB]);
        var older = await scenario.PushImageAsync("team/older", SmallLayers);
        var newer = await scenario.PushImageAsync("team/newer", SmallLayers);
        scenario.Api.Apply(KubernetesObjects.Pod("blocker", [blocker.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitUntilAsync(() => scenario.IsCached(blocker.Config.Digest), "the blocker's prefetch is under way");

        // The single worker is busy: the two pods wait in the queue, the newer one arriving first.
        var now = DateTime.UtcNow;
        var newerPod = KubernetesObjects.Pod("newer", [newer.Reference(PrefetchScenario.Namespace)], Node);
        newerPod["metadata"]!["creationTimestamp"] = now.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var olderPod = KubernetesObjects.Pod("older", [older.Reference(PrefetchScenario.Namespace)], Node);
        olderPod["metadata"]!["creationTimestamp"] = now.AddMinutes(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        scenario.Api.Apply(newerPod);
        scenario.Api.Apply(olderPod);
        await scenario.WaitForLogAsync($"Prefetched {newer.Reference(PrefetchScenario.Namespace)}", "the newer pod's image is prefetched");

        var prefetched = scenario.Agent.Output.Text().Split('\n').Where(l => l.Contains("Prefetched harbor.test/team/", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, prefetched.Count);
        Assert.Contains("team/blocker", prefetched[0], StringComparison.Ordinal);
        Assert.Contains("team/older", prefetched[1], StringComparison.Ordinal);
        Assert.Contains("team/newer", prefetched[2], StringComparison.Ordinal);
    }
}
