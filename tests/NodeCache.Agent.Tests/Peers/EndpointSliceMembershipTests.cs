using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Agent.Peers;
using NodeCache.Peers;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>Membership from the EndpointSlices of the agents' headless Service, read with the real client from the fake API server.</summary>
public sealed class EndpointSliceMembershipTests : IAsyncLifetime
{
    private const string Namespace = "nodecache";
    private const string Service = "nodecache-peers";

    private readonly TempFolder _folder = TempFolder.Create("slices");
    private readonly PeerMembership _membership = new("http://198.18.0.11:5051", "node-1");
    private FakeApiServer _api = null!;
    private k8s.Kubernetes _client = null!;
    private EndpointSliceMembership _watch = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        var kubeconfig = _folder.Combine("kubeconfig");
        _api.WriteKubeconfig(kubeconfig);
        var configuration = k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        configuration.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        _client = new k8s.Kubernetes(configuration);
        _watch = new EndpointSliceMembership(_client, $"{Namespace}/{Service}", "http", _membership, NullLoggerFactory.Instance);
    }

    public async Task DisposeAsync()
    {
        await _watch.StopAsync(CancellationToken.None);
        _watch.Dispose();
        _client.Dispose();
        await _api.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Endpoints_of_the_service_become_members_with_node_and_zone_and_only_ready_ones_that_are_not_terminating_are_ready()
    {
        _api.Apply(Slice("nodecache-peers-abc", Service,
            Endpoint("198.18.0.11", "node-1", "zone-a"),
            Endpoint("198.18.0.12", "node-2", "zone-b"),
            Endpoint("198.18.0.13", "node-3", "zone-a", ready: false),
            Endpoint("198.18.0.14", "node-4", "zone-b", ready: false, terminating: true)));
        _api.Apply(Slice("other-xyz", "other-service", Endpoint("198.18.0.99", "node-9")));

        await _watch.StartAsync(CancellationToken.None);
        await WaitForAsync(() => _membership.Members.Count == 4);

        Assert.Equal(
            ["http://198.18.0.11:5051 node-1 zone-a ready", "http://198.18.0.12:5051 node-2 zone-b ready", "http://198.18.0.13:5051 node-3 zone-a not ready", "http://198.18.0.14:5051 node-4 zone-b not ready"],
            _membership.Members.Select(m => $"{m.Id} {m.NodeName} {m.Zone} {(m.Ready ? "ready" : "not ready")}"));
        Assert.Equal("zone-a", _membership.Self?.Zone);
        Assert.Contains(_api.Requests(), r => r.StartsWith($"GET /apis/discovery.k8s.io/v1/namespaces/{Namespace}/endpointslices?", StringComparison.Ordinal)
            && r.Contains("labelSelector=kubernetes.io%2Fservice-name%3Dnodecache-peers", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Changes_are_followed_by_the_watch_and_after_410_gone_by_a_new_list()
    {
        _api.Apply(Slice("nodecache-peers-abc", Service, Endpoint("198.18.0.11", "node-1")));
        await _watch.StartAsync(CancellationToken.None);
        await WaitForAsync(() => _membership.Members.Count == 1);

        _api.Update("endpointslices", Namespace, "nodecache-peers-abc", slice =>
            slice["endpoints"]!.AsArray().Add(Slice("x", Service, Endpoint("198.18.0.12", "node-2"))["endpoints"]![0]!.DeepClone()));
        await WaitForAsync(() => _membership.Members.Any(m => m.NodeName == "node-2" && m.Ready));
        _api.Apply(Slice("nodecache-peers-def", Service, Endpoint("198.18.0.13", "node-3")));
        await WaitForAsync(() => _membership.Members.Count == 3);

        // While the agent cannot reach the API, a slice goes and the history is compacted: resuming the watch gets 410 Gone,
        // and only a new list shows the change.
        _api.Unavailable = true;
        _api.DropWatches();
        _api.Delete("endpointslices", Namespace, "nodecache-peers-def");
        _api.Compact();
        _api.Unavailable = false;
        await WaitForAsync(() => _membership.Members.Count == 2);

        Assert.DoesNotContain(_membership.Members, m => m.NodeName == "node-3");
        Assert.Equal(2, _api.Requests().Count(r => r.StartsWith($"GET /apis/discovery.k8s.io/v1/namespaces/{Namespace}/endpointslices?", StringComparison.Ordinal) && !r.Contains("watch=true", StringComparison.Ordinal)));
    }

    private static System.Text.Json.Nodes.JsonObject Slice(string name, string service, params SliceEndpoint[] endpoints) =>
        KubernetesObjects.EndpointSlice(name, Namespace, service, "peer", 5051, endpoints);

    private static SliceEndpoint Endpoint(string address, string node, string? zone = null, bool ready = true, bool terminating = false) =>
        new(address, node, zone, $"nodecache-{node}", ready, terminating);

    private async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"membership is {string.Join(", ", _membership.Members)}\n{string.Join("\n", _api.Requests())}");
            await Task.Delay(50);
        }
    }
}
