using System.Text;
using System.Text.Json.Nodes;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>The chart rendered with <c>peering.enabled</c> and nothing else changed.</summary>
public sealed class PeeringRender : IAsyncLifetime
{
    public RenderedChart Chart { get; private set; } = null!;

    public async Task InitializeAsync() => Chart = await RenderedChart.RenderAsync(null, "peering.enabled=true");

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// Sharing between agents as the chart sets it up: the agents find each other through a headless Service's EndpointSlices,
/// listen for each other on their node's IP, and prove a secret the chart generates once and keeps.
/// </summary>
public sealed class ChartPeeringTests(PeeringRender render) : IClassFixture<PeeringRender>
{
    private readonly RenderedChart _chart = render.Chart;

    [Fact]
    public void The_agent_listens_for_peers_on_its_nodes_ip_and_finds_them_through_the_headless_service()
    {
        using var folder = TempFolder.Create("chart-peering-agent");

        var options = _chart.LoadAgentOptions(folder);

        Assert.Equal($"{RenderedChart.NodeIp}:5051", options.PeerListen);
        Assert.Equal($"http://{RenderedChart.NodeIp}:5051", options.PeerUrl);
        Assert.Equal($"{RenderedChart.Namespace}/nodecache-peers", options.PeersService);
        Assert.Equal("/etc/nodecache/peer/token", options.PeerTokenFile);
        Assert.False(options.PeerZoneLocal);
        Assert.Null(options.PeerTlsCert);
        var port = _chart.AgentContainer["ports"].Items.Single(p => p["name"].Text == "peer");
        Assert.Equal("5051", port["containerPort"].Text);
    }

    [Fact]
    public void The_headless_service_selects_the_daemonsets_pods_and_names_the_peer_port_the_agent_reads_from_its_endpoint_slices()
    {
        var service = _chart.Manifests.Single(m => m["kind"].Text == "Service" && m["metadata"]["name"].Text == "nodecache-peers");

        Assert.Equal("None", service["spec"]["clusterIP"].Text);
        Assert.Equal(_chart.DaemonSet["spec"]["selector"]["matchLabels"].TextMap, service["spec"]["selector"].TextMap);
        var servicePort = Assert.Single(service["spec"]["ports"].Items);
        Assert.Equal("peer", servicePort["name"].Text);
        Assert.Equal("5051", servicePort["port"].Text);
        Assert.Equal("peer", servicePort["targetPort"].Text);
    }

    [Fact]
    public void The_cluster_role_lets_the_agent_list_and_watch_endpoint_slices()
    {
        var rule = _chart.AgentClusterRole["rules"].Items.Single(r => r["resources"].Texts.Contains("endpointslices"));

        Assert.Equal(["discovery.k8s.io"], rule["apiGroups"].Texts);
        Assert.Equal(["list", "watch"], rule["verbs"].Texts);
    }

    [Fact]
    public void The_generated_secret_holds_48_random_characters_mounted_as_the_token_file()
    {
        var secret = _chart.OfKind("Secret");
        var token = Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]["token"].Text));

        Assert.Equal("nodecache-peer", secret["metadata"]["name"].Text);
        Assert.Matches("^[A-Za-z0-9]{48}$", token);
        var volume = _chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == "peer-secret")["secret"];
        Assert.Equal("nodecache-peer", volume["secretName"].Text);
        Assert.Equal("token", Assert.Single(volume["items"].Items)["key"].Text);
        var mount = _chart.AgentContainer["volumeMounts"].Items.Single(m => m["name"].Text == "peer-secret");
        Assert.Equal("/etc/nodecache/peer", mount["mountPath"].Text);
        Assert.Equal("true", mount["readOnly"].Text);
    }

    [Fact]
    public async Task An_upgrade_keeps_the_secret_the_cluster_holds_so_old_and_new_agents_still_accept_each_other()
    {
        await using var api = await FakeApiServer.StartAsync();
        using var folder = TempFolder.Create("chart-peering-upgrade");
        var kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        var kept = Convert.ToBase64String(Encoding.UTF8.GetBytes("the-secret-the-first-install-generated"));
        api.Apply(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "nodecache-peer", ["namespace"] = RenderedChart.Namespace },
            ["type"] = "Opaque",
            ["data"] = new JsonObject { ["token"] = kept },
        });

        var upgrade = await RenderedChart.RenderAgainstAsync(kubeconfig, "peering.enabled=true");
        var fresh = await RenderedChart.RenderAsync(null, "peering.enabled=true");

        Assert.Equal(kept, upgrade.OfKind("Secret")["data"]["token"].Text);
        Assert.NotEqual(_chart.OfKind("Secret")["data"]["token"].Text, fresh.OfKind("Secret")["data"]["token"].Text);
    }
}
