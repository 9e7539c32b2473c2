using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Prefetch;

/// <summary>The images of the pods on this node stay cached through eviction passes that remove newer, unused images.</summary>
public sealed class PodPinTests
{
    private const string Node = PrefetchScenario.NodeName;

    [Fact]
    public async Task An_image_of_a_pod_on_the_node_survives_an_eviction_pass_and_is_evicted_once_the_pod_is_gone()
    {
        // 1 MiB with the default watermarks: a pass starts above 90% and evicts the least recently used down to 80%.
        await using var scenario = await PrefetchScenario.StartAsync(seed: 311, agentArguments: ["--cache-size", "1MiB", "--eviction-interval", "200ms"]);
        var running = await scenario.PushImageAsync("team/running", [300 * OciImageBuilder.KiB, 100 * OciImageBuilder.KiB]);
        var unused = await scenario.PushImageAsync("team/unused", [600 * OciImageBuilder.KiB]);
        var later = await scenario.PushImageAsync("team/later", [600 * OciImageBuilder.KiB]);
        scenario.Api.Apply(KubernetesObjects.Pod("running", [running.Reference(PrefetchScenario.Namespace)], Node));
        await scenario.WaitCachedAsync(running, "the pod's image is prefetched");

        // The pod's image is the least recently used: without its pod it would be the first to go.
        (await NodeCacheCli.RunAsync(scenario.Agent, "prewarm", unused.Reference(PrefetchScenario.Namespace))).EnsureSucceeded();
        await scenario.WaitUntilAsync(() => !scenario.IsCached(unused.Layers[0].Digest), "a pass evicts the unused image");

        Assert.True(scenario.IsCached(running), "the image of a pod on this node is kept");

        scenario.Api.Delete("pods", "default", "running");
        await scenario.WaitForLogAsync("Keeping 0 blobs of the images of pods", "the deleted pod's image is no longer kept");
        (await NodeCacheCli.RunAsync(scenario.Agent, "prewarm", later.Reference(PrefetchScenario.Namespace))).EnsureSucceeded();
        await scenario.WaitUntilAsync(() => !scenario.IsCached(running.Layers[0].Digest), "a pass evicts the image nobody runs any more");

        Assert.True(scenario.IsCached(later.Layers[0].Digest), "the newer image stays once the older one made room");
    }
}
