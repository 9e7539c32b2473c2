using System.Globalization;
using System.Security.Cryptography;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// A Kubernetes cluster's image path on this one machine: a <see cref="NodeNetwork"/>; the real distribution registry
/// playing Harbor in a namespace of its own behind its shaped link; the fake API server on the bridge's host address,
/// serving the DaemonSet's headless Service and EndpointSlices; and nodes, each an agent (and optionally containerd)
/// in its own namespace behind its own shaped link. The cluster's peer secret is a file every agent gets.
/// Disposing stops every process by its PID and deletes every namespace, link and the bridge.
/// </summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    /// <summary>The registry name images carry; every agent maps it to Harbor, as <c>?ns=</c> names it.</summary>
    public const string RegistryHost = "harbor.test";

    /// <summary>The peer API's port on each node's address.</summary>
    public const int PeerPort = 5051;

    public const string ServiceNamespace = "nodecache";
    public const string ServiceName = "nodecache";
    public const string PeerPortName = "peer";

    private readonly TempFolder _folder;
    private readonly List<ClusterNode> _nodes = [];

    private SimulatedCluster(ClusterOptions options, TempFolder folder, NodeNetwork network, NetworkNamespace harborMachine, RegistryProcess harbor, FakeApiServer api)
    {
        Options = options;
        _folder = folder;
        Network = network;
        HarborMachine = harborMachine;
        Harbor = harbor;
        Api = api;
        Endpoints = new DaemonSetEndpoints(api, ServiceNamespace, ServiceName, PeerPortName, PeerPort, options.EndpointsPerSlice);
        Kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(Kubeconfig);
        TokenFile = folder.Combine("peer-token");
        File.WriteAllText(TokenFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant());
    }

    public ClusterOptions Options { get; }

    public NodeNetwork Network { get; }

    public NetworkNamespace HarborMachine { get; }

    /// <summary>The distribution registry in Harbor's namespace; its log is Harbor's egress.</summary>
    public RegistryProcess Harbor { get; }

    public FakeApiServer Api { get; }

    public DaemonSetEndpoints Endpoints { get; }

    /// <summary>A kubeconfig for the fake API server at the bridge's address, as agents in the namespaces reach it.</summary>
    public string Kubeconfig { get; }

    /// <summary>The cluster's shared peer secret, as the chart's Secret mounts it.</summary>
    public string TokenFile { get; }

    public IReadOnlyList<ClusterNode> Nodes
    {
        get
        {
            lock (_nodes)
            {
                return [.. _nodes];
            }
        }
    }

    /// <summary>The network, Harbor (started and shaped) and the API server; no nodes yet.</summary>
    public static async Task<SimulatedCluster> StartAsync(ClusterOptions options, CancellationToken cancellationToken = default)
    {
        var folder = TempFolder.Create("cluster");
        NodeNetwork? network = null;
        RegistryProcess? harbor = null;
        FakeApiServer? api = null;
        try
        {
            network = await NodeNetwork.CreateAsync();
            var harborMachine = await network.AddNamespaceAsync("harbor");
            await harborMachine.ShapeAsync(options.HarborLink);
            harbor = await RegistryProcess.StartAsync(machine: harborMachine, cancellationToken: cancellationToken);
            api = await FakeApiServer.StartAsync(network.HostAddress);
            return new SimulatedCluster(options, folder, network, harborMachine, harbor, api);
        }
        catch
        {
            if (api is not null)
            {
                await api.DisposeAsync();
            }
            if (harbor is not null)
            {
                await harbor.DisposeAsync();
            }
            if (network is not null)
            {
                await network.DisposeAsync();
            }
            folder.Dispose();
            throw;
        }
    }

    /// <summary>New nodes with shaped links and no agent yet, the first <paramref name="withContainerd"/> of them running containerd.</summary>
    public async Task<IReadOnlyList<ClusterNode>> AddNodesAsync(int count, int withContainerd = 0, CancellationToken cancellationToken = default)
    {
        var added = new List<ClusterNode>();
        for (var i = 0; i < count; i++)
        {
            int number;
            lock (_nodes)
            {
                number = _nodes.Count + 1;
            }
            var machine = await Network.AddNamespaceAsync($"node-{number}");
            await machine.ShapeAsync(Options.NodeLink);
            var node = new ClusterNode(this, $"node-{number}", machine);
            lock (_nodes)
            {
                _nodes.Add(node);
            }
            if (i < withContainerd)
            {
                await node.StartContainerdAsync(cancellationToken);
            }
            added.Add(node);
        }
        return added;
    }

    /// <summary>
    /// Starts the agents of <paramref name="nodes"/> at once, each with an empty cache, and returns when every one answers
    /// <c>/readyz</c> and (with peering) its endpoint is ready. With a static list, the members are exactly these nodes.
    /// </summary>
    public async Task StartAgentsAsync(IReadOnlyList<ClusterNode> nodes, PeeringMode peering, CancellationToken cancellationToken = default)
    {
        var members = nodes.Select(n => n.PeerUrl.ToString().TrimEnd('/')).ToList();
        await Task.WhenAll(nodes.Select(node => node.StartAgentAsync(AgentArguments(node, peering, members), cancellationToken)));
        await Task.WhenAll(nodes.Select(node => node.WaitEndpointReadyAsync(cancellationToken)));
    }

    /// <summary>A node joining the cluster: its machine, then its agent, which becomes a member once its probe passes.</summary>
    public async Task<ClusterNode> JoinAsync(PeeringMode peering, CancellationToken cancellationToken = default)
    {
        var node = (await AddNodesAsync(1, cancellationToken: cancellationToken))[0];
        await StartAgentsAsync([node], peering, cancellationToken);
        return node;
    }

    /// <summary>Stops every agent and removes its endpoint; nodes and containerd stay.</summary>
    public async Task StopAgentsAsync()
    {
        await Task.WhenAll(Nodes.Select(n => n.StopAgentAsync()));
    }

    /// <summary>What the agent of <paramref name="node"/> is started with: Harbor as the upstream of <see cref="RegistryHost"/>, its node name, and the peer flags of the mode.</summary>
    public IReadOnlyList<string> AgentArguments(ClusterNode node, PeeringMode peering, IReadOnlyList<string> members)
    {
        var arguments = new List<string>(AgentProcess.Upstream(RegistryHost, Harbor.BaseUri)) { "--node-name", node.Name };
        if (peering != PeeringMode.Off)
        {
            arguments.AddRange(["--peer-listen", $"{node.Machine.Address}:{PeerPort}", "--peer-token-file", TokenFile]);
            // The agent's default minimum peer rate (2 MiB/s) suits data-centre links. On these links of tens of Mbit/s, an
            // owner's four uploads of a blob get a quarter of its link each, near that default, so healthy owners were left
            // as "slow": an eighth of a node's link (half a fair share) is what "far slower than expected" means here.
            // Unless the cluster's own agent arguments choose the rate: a comparison of settings.
            if (!Options.AgentArguments.Contains("--peer-min-rate"))
            {
                arguments.AddRange(["--peer-min-rate", string.Create(CultureInfo.InvariantCulture, $"{Options.NodeLink.BytesPerSecond / 8 / 1024}KiB/s")]);
            }
            if (!node.AdvertisedAddress.Equals(node.Machine.Address))
            {
                arguments.AddRange(["--peer-url", node.PeerUrl.ToString().TrimEnd('/')]);
            }
        }
        switch (peering)
        {
            case PeeringMode.StaticList:
                arguments.AddRange(["--peers", string.Join(',', members)]);
                break;
            case PeeringMode.Service:
                arguments.AddRange(["--peers-service", Endpoints.ServiceReference, "--kubeconfig", Kubeconfig]);
                break;
        }
        arguments.AddRange(Options.AgentArguments);
        return arguments;
    }

    public async Task PushAsync(BuiltImage image, CancellationToken cancellationToken = default) =>
        await OciPusher.For(Harbor).PushAsync(image, cancellationToken);

    /// <summary>The body bytes of every blob GET Harbor answered with success so far: its egress for image content.</summary>
    public async Task<long> HarborBlobBytesAsync(CancellationToken cancellationToken = default) =>
        (await Harbor.RequestsAsync(cancellationToken)).Where(r => r.Route == RegistryRoute.Blob && r.Method == "GET" && r.Succeeded).Sum(r => r.Written);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
        await Api.DisposeAsync();
        await Harbor.DisposeAsync();
        try
        {
            await Network.DisposeAsync();
        }
        finally
        {
            _folder.Dispose();
        }
    }
}
