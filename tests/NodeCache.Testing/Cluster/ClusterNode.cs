using System.Diagnostics;
using System.Net;
using NodeCache.Oci;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// One node of a <see cref="SimulatedCluster"/>: its machine (namespace and shaped link), its agent on the node's own
/// <c>127.0.0.1:5050</c> with its peer port on the node's address, the kubelet's readiness probe that keeps the node's
/// endpoint in the DaemonSet's EndpointSlices, and optionally a containerd that pulls through the agent. The node's
/// clients (containerd, or <see cref="MirrorPull"/> over the node's loopback) list the agent first and Harbor as the
/// server, as the chart's hosts.toml does.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    // Twenty agents starting at once on two cores, or five restarting while other work shares them, take a while to
    // compile their first requests.
    private static readonly TimeSpan AgentReadyLimit = TimeSpan.FromMinutes(2);

    private readonly SimulatedCluster _cluster;
    private ReadinessProbe? _probe;

    internal ClusterNode(SimulatedCluster cluster, string name, NetworkNamespace machine)
    {
        _cluster = cluster;
        Name = name;
        Machine = machine;
        AdvertisedAddress = machine.Address;
        Http = new HttpClient(machine.CreateHandler(TimeSpan.FromSeconds(5))) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The node's name, as <c>spec.nodeName</c> and the endpoint's <c>nodeName</c> carry it.</summary>
    public string Name { get; }

    public NetworkNamespace Machine { get; }

    /// <summary>The agent running now; null before the first start and after a stop.</summary>
    public AgentProcess? Agent { get; private set; }

    public ContainerdProcess? Containerd { get; private set; }

    /// <summary>
    /// The address other agents are told to reach this one at (its endpoint's address and its <c>--peer-url</c>): the
    /// node's own unless a test puts something in front of its peer port. Set it before the agent starts.
    /// </summary>
    public IPAddress AdvertisedAddress { get; set; }

    public Uri PeerUrl => new($"http://{AdvertisedAddress}:{SimulatedCluster.PeerPort}");

    /// <summary>The agent as the node's own clients reach it.</summary>
    public static Uri MirrorUrl { get; } = new($"http://127.0.0.1:{AgentProcess.NodePort}/");

    /// <summary>A client on the node: its connections start inside the node's namespace.</summary>
    public HttpClient Http { get; }

    public bool Ready => _probe?.Ready ?? false;

    /// <summary>Starts a containerd in the node's namespace whose hosts.toml lists the agent first and Harbor as the server.</summary>
    public async Task StartContainerdAsync(CancellationToken cancellationToken = default)
    {
        Containerd = await ContainerdProcess.StartAsync(Machine, cancellationToken);
        Containerd.WriteHosts(SimulatedCluster.RegistryHost, _cluster.Harbor.BaseUri.ToString().TrimEnd('/'), MirrorUrl.ToString().TrimEnd('/'));
    }

    /// <summary>Starts the agent with an empty cache and the given arguments; returns once it answers <c>/readyz</c>.</summary>
    internal async Task StartAgentAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        if (Agent is not null)
        {
            throw new InvalidOperationException($"{Name}'s agent is running already");
        }
        Agent = AgentProcess.Launch(arguments, machine: Machine, environment: _cluster.Options.AgentEnvironment);
        // The pod exists and is not ready yet: its endpoint is listed, not ready, as the controller lists a starting pod.
        _cluster.Endpoints.Set(Endpoint(ready: false));
        _probe = new ReadinessProbe(Machine, AgentProcess.NodePort, _cluster.Options.ProbePeriod, _cluster.Options.ProbeFailureThreshold, ready => _cluster.Endpoints.Set(Endpoint(ready)));
        await Agent.WaitReadyAsync(AgentReadyLimit, cancellationToken);
    }

    /// <summary>Waits until the node's endpoint is ready, as other agents will then see it.</summary>
    public Task WaitEndpointReadyAsync(CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => _cluster.Endpoints.Endpoints.Any(e => e.NodeName == Name && e.Ready), "its endpoint to turn ready", TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>Waits until the node's endpoint is not ready (after the probe's failure threshold).</summary>
    public Task WaitEndpointNotReadyAsync(CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => _cluster.Endpoints.Endpoints.Any(e => e.NodeName == Name && !e.Ready), "its endpoint to turn not ready", TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>SIGKILL to the agent, as a crash or the OOM killer: its endpoint stays ready until the probe has failed enough.</summary>
    public void KillAgent() => (Agent ?? throw new InvalidOperationException($"{Name} has no agent")).Kill();

    /// <summary>Starts the agent again with the same arguments and cache, as the kubelet restarts a container that died.</summary>
    public async Task RestartAgentAsync(CancellationToken cancellationToken = default) =>
        await (Agent ?? throw new InvalidOperationException($"{Name} has no agent")).RestartAsync(AgentReadyLimit, cancellationToken);

    /// <summary>Stops the agent and its probe, and removes its endpoint, as when the pod is deleted.</summary>
    public async Task StopAgentAsync()
    {
        if (_probe is not null)
        {
            await _probe.DisposeAsync();
            _probe = null;
        }
        _cluster.Endpoints.Remove(Name);
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
            Agent = null;
        }
    }

    /// <summary>
    /// Pulls the image as this node's runtime would: through the CRI's <c>PullImage</c> when the node runs containerd
    /// (which verifies every digest it commits), else over plain HTTP with <see cref="MirrorPull"/>, hashing every byte.
    /// </summary>
    public async Task<NodePull> PullAsync(BuiltImage image, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        if (Containerd is { } containerd)
        {
            var reference = image.Reference(SimulatedCluster.RegistryHost);
            await containerd.CriPullAsync(reference, cancellationToken: cancellationToken);
            var content = await containerd.ContentDigestsAsync(ContainerdProcess.CriNamespace, cancellationToken);
            var missing = image.Blobs.Where(b => !content.Contains(b.Digest.ToString())).ToList();
            if (missing.Count > 0)
            {
                throw new PullFailedException($"{Name}: containerd pulled {reference} without {string.Join(", ", missing.Select(b => b.Digest))}");
            }
            return new NodePull(this, clock.Elapsed, image.Blobs.Sum(b => b.Size), Containerd: true, null);
        }
        var pull = new MirrorPull(Http, [MirrorUrl, _cluster.Harbor.BaseUri], SimulatedCluster.RegistryHost);
        var pulled = await pull.PullAsync(image.Repository, image.Tag ?? throw new ArgumentException("the image has no tag"), cancellationToken);
        if (pulled.ManifestDigest != image.ManifestDigest)
        {
            throw new PullFailedException($"{Name}: {image.Repository}:{image.Tag} resolved to {pulled.ManifestDigest}, not {image.ManifestDigest}");
        }
        return new NodePull(this, clock.Elapsed, pulled.Size, Containerd: false, pulled);
    }

    /// <summary>Forgets a pulled image on the node's containerd (and its content), so the next pull fetches it again.</summary>
    public async Task ForgetAsync(BuiltImage image, CancellationToken cancellationToken = default)
    {
        if (Containerd is { } containerd)
        {
            await containerd.CriRemoveAsync(image.Reference(SimulatedCluster.RegistryHost), cancellationToken);
        }
    }

    /// <summary>Whether the agent's cache holds the blob (its file is in the cache folder).</summary>
    public bool Holds(Digest digest) =>
        Agent is { } agent && File.Exists(Path.Combine(agent.CacheDir, "blobs", "sha256", digest.Hex));

    public override string ToString() => $"{Name} ({Machine.Address})";

    public async ValueTask DisposeAsync()
    {
        await StopAgentAsync();
        if (Containerd is not null)
        {
            await Containerd.DisposeAsync();
            Containerd = null;
        }
        Http.Dispose();
    }

    private SliceEndpoint Endpoint(bool ready) => new(AdvertisedAddress.ToString(), Name, null, $"nodecache-{Name}", ready);

    private async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} waited {limit} for {what}\n{Agent?.LogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }
}

/// <summary>One node's pull: how long it took, how many bytes, and (for an HTTP pull) what each part came from.</summary>
public sealed record NodePull(ClusterNode Node, TimeSpan Elapsed, long Bytes, bool Containerd, PulledImage? Http);
