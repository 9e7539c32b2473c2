using System.Text.Json.Nodes;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.Agent.Tests.Testing;

/// <summary>The simulated cluster with peering off: nodes pull through their own agents from Harbor behind its link, and the endpoints follow the agents.</summary>
public sealed class SimulatedClusterTests
{
    [Fact]
    public async Task Three_nodes_pull_through_their_own_agents_and_without_peering_Harbor_serves_the_image_once_per_node()
    {
        await using var cluster = await SimulatedCluster.StartAsync(new ClusterOptions());
        var nodes = await cluster.AddNodesAsync(3, withContainerd: 1);
        await cluster.StartAgentsAsync(nodes, PeeringMode.Off);
        using var builder = new OciImageBuilder(seed: 141);
        var image = await builder.BuildAsync("team/app", "1", [1024 * OciImageBuilder.KiB, 512 * OciImageBuilder.KiB, 256 * OciImageBuilder.KiB, 128 * OciImageBuilder.KiB]);
        await cluster.PushAsync(image);
        var size = image.Blobs.Sum(b => b.Size);

        var pulls = await Task.WhenAll(nodes.Select(n => n.PullAsync(image)));

        Assert.True(pulls[0].Containerd);
        Assert.All(pulls.Skip(1), pull =>
        {
            Assert.Equal(size, pull.Bytes);
            Assert.Equal(0, pull.Http!.FromOtherHosts(ClusterNode.MirrorUrl));
        });
        Assert.All(nodes, node => Assert.All(image.Blobs, blob => Assert.True(node.Holds(blob.Digest), $"{node} lacks {blob.Digest}")));
        Assert.Equal(3 * size, await cluster.HarborBlobBytesAsync());
        // Each node's agent fetched every blob itself, from its own address.
        var gets = (await cluster.Harbor.RequestsAsync()).Where(r => r.Route == RegistryRoute.Blob && r.Method == "GET" && r.Succeeded).ToList();
        Assert.All(nodes, node => Assert.Equal(image.Blobs.Count, gets.Count(r => r.RemoteAddress == node.Machine.Address.ToString())));
    }

    [Fact]
    public async Task A_nodes_endpoint_is_ready_while_its_agent_answers_and_not_ready_once_it_is_killed()
    {
        await using var cluster = await SimulatedCluster.StartAsync(new ClusterOptions { ProbePeriod = TimeSpan.FromMilliseconds(200), ProbeFailureThreshold = 2 });
        var nodes = await cluster.AddNodesAsync(2);
        await cluster.StartAgentsAsync(nodes, PeeringMode.Off);
        string[] Ready() =>
            [.. ((JsonArray)cluster.Api.Get("endpointslices", SimulatedCluster.ServiceNamespace, $"{SimulatedCluster.ServiceName}-00000")!["endpoints"]!)
                .Select(e => $"{e!["nodeName"]}={e["conditions"]!["ready"]}")];

        var atStart = Ready();
        nodes[1].KillAgent();
        await nodes[1].WaitEndpointNotReadyAsync();
        var afterKill = Ready();
        await nodes[1].RestartAgentAsync();
        await nodes[1].WaitEndpointReadyAsync();

        Assert.Equal(["node-1=true", "node-2=true"], atStart);
        Assert.Equal(["node-1=true", "node-2=false"], afterKill);
        Assert.Equal(["node-1=true", "node-2=true"], Ready());
    }
}
