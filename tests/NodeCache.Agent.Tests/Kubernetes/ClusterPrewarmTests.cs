using System.Text.Json.Nodes;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Kubernetes;

/// <summary>
/// Cluster-wide prewarm end to end: the real <c>nodecache</c> CLI creates an ImagePrewarm in the fake API server, a real
/// agent per node fulfils it from the real registry when the node's labels match, and each writes its own status entry.
/// </summary>
public sealed class ClusterPrewarmTests
{
    private const string Ns = ClusterPrewarmScenario.Namespace;
    private static readonly long[] SmallLayers = [64 * OciImageBuilder.KiB, 32 * OciImageBuilder.KiB];

    [Fact]
    public async Task Prewarm_with_a_selector_fills_the_matching_node_only_and_the_cli_prints_its_status_as_json()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 601);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        await cluster.StartNodeAsync("node-b", "pool=cpu");
        var image = await cluster.PushImageAsync("team/model", SmallLayers);

        var run = await cluster.CliAsync("prewarm", image.Reference(Ns), "--selector", "pool=gpu", "--name", "gpu-models", "-o", "json");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var json = JsonNode.Parse(run.Stdout)!;
        Assert.Equal("gpu-models", json["name"]!.GetValue<string>());
        Assert.Equal(["node-a"], json["selectedNodes"]!.AsArray().Select(n => n!.GetValue<string>()));
        var nodeA = json["status"]!["nodes"]!["node-a"]!;
        Assert.Equal("Ready", nodeA["phase"]!.GetValue<string>());
        Assert.Equal(1, nodeA["imagesReady"]!.GetValue<int>());
        Assert.Equal(image.ManifestBytes.Length + image.Blobs.Sum(b => b.Size), nodeA["bytesFetched"]!.GetValue<long>());
        Assert.Null(json["status"]!["nodes"]!["node-b"]);
        Assert.True(cluster.IsCached("node-a", image), "node-a caches the image");
        Assert.True(cluster.HasNone("node-b", image), "node-b, which the selector does not match, caches nothing");
        Assert.All(await cluster.BlobGetsAsync(image), gets => Assert.Equal(1, gets));
        var stored = cluster.Api.Get("imageprewarms", null, "gpu-models")!;
        Assert.Equal("gpu", stored["spec"]!["nodeSelector"]!["pool"]!.GetValue<string>());
        Assert.Equal("Ready", cluster.Phase("gpu-models", "node-a"));
    }

    [Fact]
    public async Task Prewarm_on_all_nodes_fills_every_node_and_the_cli_shows_a_table_of_them()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 602);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        await cluster.StartNodeAsync("node-b", "pool=cpu");
        var first = await cluster.PushImageAsync("team/web", SmallLayers);
        var second = await cluster.PushImageAsync("team/api", SmallLayers);

        var run = await cluster.CliAsync("prewarm", first.Reference(Ns), second.Reference(Ns), "--all-nodes", "--name", "everywhere");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("imageprewarm/everywhere created: 2 images for every node, 2 nodes match now", run.Stdout, StringComparison.Ordinal);
        var rows = run.Stdout.Split('\n').Where(l => l.Contains("node-", StringComparison.Ordinal) && l.Contains("Ready", StringComparison.Ordinal) && l.Contains("2/2", StringComparison.Ordinal)).ToList();
        Assert.Contains(rows, r => r.Contains("node-a", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("node-b", StringComparison.Ordinal));
        Assert.Contains("2 of 2 nodes ready, 0 failed", run.Stdout, StringComparison.Ordinal);
        foreach (var node in new[] { "node-a", "node-b" })
        {
            Assert.True(cluster.IsCached(node, first) && cluster.IsCached(node, second), $"{node} caches both images");
        }
        Assert.All(await cluster.BlobGetsAsync(first), gets => Assert.Equal(2, gets));
    }

    [Fact]
    public async Task Prewarm_in_a_terminal_draws_a_live_table_of_the_nodes()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 609);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        var image = await cluster.PushImageAsync("team/model", SmallLayers);

        var run = await NodeCacheCli.RunInTerminalAsync(["prewarm", image.Reference(Ns), "--all-nodes", "--kubeconfig", cluster.Kubeconfig]);

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}");
        Assert.Contains("\e[", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("NODE", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("PHASE", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Ready", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 of 1 nodes ready, 0 failed", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_that_joins_later_fulfils_an_existing_prewarm_that_selects_it()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 603);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        var image = await cluster.PushImageAsync("team/model", SmallLayers);
        var created = await cluster.CliAsync("prewarm", image.Reference(Ns), "--selector", "pool=gpu", "--name", "gpu-models");
        Assert.True(created.ExitCode == 0, created.Stderr);

        await cluster.StartNodeAsync("node-c", "pool=gpu");
        await cluster.WaitForPhaseAsync("gpu-models", "node-c", "Ready");

        Assert.True(cluster.IsCached("node-c", image), "the node that joined caches the image");
        Assert.Equal("Ready", cluster.Phase("gpu-models", "node-a"));
        Assert.All(await cluster.BlobGetsAsync(image), gets => Assert.Equal(2, gets));
    }

    [Fact]
    public async Task Image_missing_upstream_fails_on_the_node_with_the_registrys_message_and_the_cli_exits_1()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 604);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        var present = await cluster.PushImageAsync("team/model", SmallLayers);
        var missing = $"{Ns}/team/absent:1";

        var run = await cluster.CliAsync("prewarm", present.Reference(Ns), missing, "--all-nodes", "--name", "partly");

        Assert.Equal(1, run.ExitCode);
        var entry = cluster.NodeStatus("partly", "node-a")!;
        Assert.Equal("Failed", entry["phase"]!.GetValue<string>());
        Assert.Equal(1, entry["imagesReady"]!.GetValue<int>());
        var message = entry["message"]!.GetValue<string>();
        Assert.Contains(missing, message, StringComparison.Ordinal);
        Assert.True(message.Contains("MANIFEST_UNKNOWN: manifest unknown", StringComparison.Ordinal), message);
        Assert.Contains($"nodecache: node-a: Failed: {message}", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("0 of 1 nodes ready, 1 failed", run.Stdout, StringComparison.Ordinal);
        Assert.True(cluster.IsCached("node-a", present), "the image that exists is cached all the same");
    }

    [Fact]
    public async Task Prewarm_is_marked_expired_on_each_node_once_its_ttl_has_passed()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 605);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        var image = await cluster.PushImageAsync("team/model", SmallLayers);

        var run = await cluster.CliAsync("prewarm", image.Reference(Ns), "--all-nodes", "--name", "brief", "--ttl", "4s");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal("4s", cluster.Api.Get("imageprewarms", null, "brief")!["spec"]!["ttl"]!.GetValue<string>());

        await cluster.WaitForPhaseAsync("brief", "node-a", "Expired");
        var entry = cluster.NodeStatus("brief", "node-a")!;
        Assert.Contains("expired at", entry["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(image.ManifestBytes.Length + image.Blobs.Sum(b => b.Size), entry["bytesFetched"]!.GetValue<long>());

        // A node that joins after the TTL fetches nothing for it.
        await cluster.StartNodeAsync("node-late", "pool=gpu");
        await cluster.WaitForPhaseAsync("brief", "node-late", "Expired");
        Assert.True(cluster.HasNone("node-late", image), "an expired prewarm brings nothing to a node that joins later");
    }

    [Fact]
    public async Task Pinned_prewarm_pins_each_image_on_the_node_and_releases_the_pins_when_it_expires()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 610);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        var image = await cluster.PushImageAsync("team/model", SmallLayers);

        var run = await cluster.CliAsync("prewarm", image.Reference(Ns), "--selector", "pool=gpu", "--name", "pinned", "--pin", "--ttl", "6s", "-o", "json");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var ready = JsonNode.Parse(run.Stdout)!["status"]!["nodes"]!["node-a"]!;
        Assert.Equal([image.ManifestDigest.ToString()], ready["pinned"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.EndsWith(", 1 pinned", ready["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(cluster.IsPinned("node-a", image.ManifestDigest), "the agent pinned the image's manifest");

        await cluster.WaitForPhaseAsync("pinned", "node-a", "Expired");
        Assert.EndsWith("1 pins released", cluster.NodeStatus("pinned", "node-a")!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(cluster.IsPinned("node-a", image.ManifestDigest), "the pin is released at expiry");
        Assert.True(cluster.IsCached("node-a", image), "releasing a pin leaves the image cached, for eviction to judge");
    }

    [Fact]
    public async Task Deleting_a_pinned_prewarm_releases_only_pins_no_other_prewarm_holds_even_after_a_restart()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 611);
        var agent = await cluster.StartNodeAsync("node-a", "pool=gpu");
        var shared = await cluster.PushImageAsync("team/shared", SmallLayers);
        var own = await cluster.PushImageAsync("team/own", SmallLayers);
        cluster.Api.Apply(KubernetesObjects.ImagePrewarm("first", [shared.Reference(Ns), own.Reference(Ns)], pin: true));
        await cluster.WaitForPhaseAsync("first", "node-a", "Ready");
        cluster.Api.Apply(KubernetesObjects.ImagePrewarm("second", [shared.Reference(Ns)], pin: true));
        await cluster.WaitForPhaseAsync("second", "node-a", "Ready");

        // The agent learns from each prewarm's status what it pinned for it.
        await agent.RestartAsync();
        await cluster.WaitUntilAsync(() => cluster.LogLines("node-a", "ImagePrewarm second (generation 1) was fulfilled here before") > 0, "the restarted agent saw both prewarms");
        cluster.Api.Delete("imageprewarms", null, "first");
        await cluster.WaitUntilAsync(() => !cluster.IsPinned("node-a", own.ManifestDigest), "the image only the deleted prewarm pinned is unpinned");
        Assert.True(cluster.IsPinned("node-a", shared.ManifestDigest), "the image the other prewarm still pins stays pinned");

        cluster.Api.Delete("imageprewarms", null, "second");
        await cluster.WaitUntilAsync(() => !cluster.IsPinned("node-a", shared.ManifestDigest), "the last prewarm's pin is released with it");
    }

    [Fact]
    public async Task Restarted_agent_keeps_its_status_and_fetches_nothing_again_but_a_changed_spec_is_fulfilled_anew()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 606);
        var agent = await cluster.StartNodeAsync("node-a", "pool=gpu");
        var first = await cluster.PushImageAsync("team/first", SmallLayers);
        var second = await cluster.PushImageAsync("team/second", SmallLayers);
        cluster.Api.Apply(KubernetesObjects.ImagePrewarm("warm", [first.Reference(Ns)]));
        await cluster.WaitForPhaseAsync("warm", "node-a", "Ready");
        var before = cluster.NodeStatus("warm", "node-a")!.ToJsonString();
        var manifestRequests = await cluster.Registry.CountManifestRequestsAsync(repository: first.Repository);

        await agent.RestartAsync();
        await cluster.WaitUntilAsync(() => cluster.LogLines("node-a", "ImagePrewarm warm (generation 1) was fulfilled here before: Ready") > 0, "the restarted agent finds its finished entry");

        Assert.Equal(before, cluster.NodeStatus("warm", "node-a")!.ToJsonString());
        Assert.All(await cluster.BlobGetsAsync(first), gets => Assert.Equal(1, gets));
        Assert.Equal(manifestRequests, await cluster.Registry.CountManifestRequestsAsync(repository: first.Repository));

        cluster.Api.Update("imageprewarms", null, "warm", prewarm => prewarm["spec"]!["images"]!.AsArray().Add(second.Reference(Ns)));
        await cluster.WaitUntilAsync(() => cluster.NodeStatus("warm", "node-a")?["observedGeneration"]?.GetValue<long>() == 2 && cluster.Phase("warm", "node-a") == "Ready",
            "the changed spec (generation 2) is fulfilled");

        Assert.True(cluster.IsCached("node-a", second), "the image the change added is cached");
        Assert.Equal(2, cluster.NodeStatus("warm", "node-a")!["imagesReady"]!.GetValue<int>());
        Assert.All(await cluster.BlobGetsAsync(first), gets => Assert.Equal(1, gets));
    }

    [Fact]
    public async Task Deleted_prewarm_stops_and_a_no_wait_run_returns_after_creating()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 607);
        await cluster.StartNodeAsync("node-a", "pool=gpu");
        var image = await cluster.PushImageAsync("team/model", SmallLayers);

        var run = await cluster.CliAsync("prewarm", image.Reference(Ns), "--selector", "pool=gpu", "--name", "quick", "--no-wait", "-o", "json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("quick", JsonNode.Parse(run.Stdout)!["name"]!.GetValue<string>());
        Assert.NotNull(cluster.Api.Get("imageprewarms", null, "quick"));
        await cluster.WaitForPhaseAsync("quick", "node-a", "Ready");
        cluster.Api.Delete("imageprewarms", null, "quick");
        await cluster.WaitUntilAsync(() => cluster.LogLines("node-a", "ImagePrewarm quick no longer applies to this node") > 0, "the agent forgets the deleted prewarm");
    }

    [Fact]
    public async Task Cli_refuses_conflicting_or_malformed_cluster_options_with_the_usage_code()
    {
        await using var cluster = await ClusterPrewarmScenario.StartAsync(seed: 608);

        var both = await cluster.CliAsync("prewarm", $"{Ns}/team/x:1", "--all-nodes", "--selector", "pool=gpu");
        var selector = await cluster.CliAsync("prewarm", $"{Ns}/team/x:1", "--selector", "pool");
        var ttl = await cluster.CliAsync("prewarm", $"{Ns}/team/x:1", "--all-nodes", "--ttl", "soon");
        var reference = await cluster.CliAsync("prewarm", "Not A Reference", "--all-nodes");
        var local = await NodeCacheCli.RunAsync(["prewarm", $"{Ns}/team/x:1", "--ttl", "1h"]);

        Assert.Equal(2, both.ExitCode);
        Assert.Equal(2, selector.ExitCode);
        Assert.Equal(2, ttl.ExitCode);
        Assert.Equal(4, reference.ExitCode);
        Assert.Equal(2, local.ExitCode);
        Assert.Equal("nodecache: --ttl applies to --all-nodes or --selector", local.Stderr.Trim());
        Assert.DoesNotContain(cluster.Api.Requests(), r => r.StartsWith("POST", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cli_reports_an_unreachable_cluster_with_exit_code_7()
    {
        using var folder = TempFolder.Create("kubeconfig");
        var api = await FakeApiServer.StartAsync();
        var kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        await api.DisposeAsync();

        var run = await NodeCacheCli.RunAsync(["prewarm", "harbor.test/team/x:1", "--all-nodes", "--kubeconfig", kubeconfig]);

        Assert.Equal(7, run.ExitCode);
        Assert.StartsWith("nodecache: cannot reach the Kubernetes API to create ImagePrewarm", run.Stderr, StringComparison.Ordinal);
    }
}
