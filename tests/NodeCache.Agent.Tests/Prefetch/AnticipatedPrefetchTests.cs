using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Prefetch;

/// <summary>Images prefetched before any pod that needs them is bound here: a rollout of a workload running here, a nomination.</summary>
public sealed class AnticipatedPrefetchTests
{
    private const string Node = PrefetchScenario.NodeName;
    private static readonly long[] Layers = [64 * OciImageBuilder.KiB, 16 * OciImageBuilder.KiB];

    [Fact]
    public async Task Rollout_of_a_deployment_running_here_prefetches_its_new_image_before_any_new_pod_exists()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 330);
        var v1 = await scenario.PushImageAsync("team/web", Layers, tag: "1");
        var v2 = await scenario.PushImageAsync("team/web", Layers, tag: "2");
        var elsewhere = await scenario.PushImageAsync("team/api", Layers, tag: "2");
        scenario.Api.Apply(KubernetesObjects.Deployment("web", [v1.Reference(PrefetchScenario.Namespace)]));
        scenario.Api.Apply(KubernetesObjects.Deployment("api", ["harbor.test/team/api:1"]));
        var running = KubernetesObjects.OwnedByDeployment(KubernetesObjects.Pod("web-6b8f7-x2x9q", [v1.Reference(PrefetchScenario.Namespace)], Node), "web", "6b8f7");
        KubernetesObjects.SetPhase(running, "Running");
        scenario.Api.Apply(running);
        scenario.Api.Apply(KubernetesObjects.OwnedByDeployment(KubernetesObjects.Pod("api-5c4d3-abcde", ["harbor.test/team/api:1"], "node-2"), "api", "5c4d3"));
        await scenario.WaitForLogAsync("Listed deployments", "the agent lists the deployments");
        await Task.Delay(300);

        scenario.Api.Update("deployments", "default", "web", d => KubernetesObjects.SetTemplateImages(d, [v2.Reference(PrefetchScenario.Namespace)]));
        scenario.Api.Update("deployments", "default", "api", d => KubernetesObjects.SetTemplateImages(d, [elsewhere.Reference(PrefetchScenario.Namespace)]));
        await scenario.WaitCachedAsync(v2, "the deployment's new image is cached");

        Assert.False(scenario.IsCached(v1.ManifestDigest), "a running pod's image is not prefetched: the kubelet has it");
        Assert.False(scenario.IsCached(elsewhere.ManifestDigest), "a workload with no pod on this node is not prefetched here");
        Assert.All(await scenario.BlobGetsAsync(v2), gets => Assert.Equal(1, gets));
    }

    [Fact]
    public async Task Pod_nominated_for_this_node_is_prefetched_before_it_is_bound()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 331);
        var image = await scenario.PushImageAsync("team/batch", Layers);
        var pod = KubernetesObjects.Pod("batch", [image.Reference(PrefetchScenario.Namespace)]);
        scenario.Api.Apply(pod);
        scenario.Api.Update("pods", "default", "batch", p => KubernetesObjects.Nominate(p, Node));

        await scenario.WaitForLogAsync($"Prefetched {image.Reference(PrefetchScenario.Namespace)}", "the nominated pod's image is prefetched");
        Assert.True(scenario.IsCached(image));

        scenario.Api.Update("pods", "default", "batch", p => KubernetesObjects.Bind(p, Node));
        await Task.Delay(500);
        Assert.All(await scenario.BlobGetsAsync(image), gets => Assert.Equal(1, gets));
        Assert.Equal(1, scenario.LogLines($"Prefetched {image.Reference(PrefetchScenario.Namespace)}"));
    }
}
