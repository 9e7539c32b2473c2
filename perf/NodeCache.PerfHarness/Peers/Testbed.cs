using NodeCache.Oci;
using NodeCache.PerfHarness.Measurement;
using NodeCache.PerfHarness.Workload;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Peers;

/// <summary>
/// Every peer on 127.0.0.1 for the whole run: the upstream registry with the run's content, nginx serving its blob files
/// statically, nginx proxy_cache and the registry in proxy mode in front of it, and the agent. Disposing stops each by
/// its PID and deletes its folder.
/// </summary>
internal sealed class Testbed : IAsyncDisposable
{
    /// <summary>The registry name the agent maps to the upstream, as containerd would send it in <c>?ns=</c>.</summary>
    public const string RegistryHost = "harbor.test";

    private readonly List<IAsyncDisposable> _started = [];

    private Testbed(HarnessSettings settings, Action<string> progress)
    {
        Settings = settings;
        Progress = progress;
    }

    public HarnessSettings Settings { get; }

    public Action<string> Progress { get; }

    public BlobClient Client { get; } = new();

    public RegistryProcess Upstream { get; private set; } = null!;

    public UpstreamContent Content { get; private set; } = null!;

    public AgentProcess Agent { get; private set; } = null!;

    public NginxServer NginxStatic { get; private set; } = null!;

    public NginxServer NginxProxyCache { get; private set; } = null!;

    public RegistryProcess RegistryProxy { get; private set; } = null!;

    public Peer AgentPeer => new(Peer.Agent, Agent.BaseUri, Agent.Pid, $"?ns={RegistryHost}");

    public Peer NginxStaticPeer => new(Peer.NginxStatic, NginxStatic.BaseUri, NginxStatic.Pid);

    public Peer NginxProxyCachePeer => new(Peer.NginxProxyCache, NginxProxyCache.BaseUri, NginxProxyCache.Pid);

    public Peer RegistryProxyPeer => new(Peer.RegistryProxy, RegistryProxy.BaseUri, RegistryProxy.Pid);

    public Peer UpstreamPeer => new(Peer.Upstream, Upstream.BaseUri, Upstream.Pid);

    /// <summary>The three pull-through caches, the agent first.</summary>
    public IReadOnlyList<Peer> Caches => [AgentPeer, NginxProxyCachePeer, RegistryProxyPeer];

    /// <summary>The agent's arguments for an upstream of <paramref name="upstream"/>; also used for the containerd scenario's own agents.</summary>
    public static string[] AgentArguments(RegistryProcess upstream) => AgentProcess.Upstream(RegistryHost, upstream.BaseUri);

    public static async Task<Testbed> StartAsync(HarnessSettings settings, Action<string> progress, CancellationToken cancellationToken)
    {
        var bed = new Testbed(settings, progress);
        try
        {
            bed.Upstream = bed.Track(await RegistryProcess.StartAsync(cancellationToken: cancellationToken));
            progress($"upstream registry on {bed.Upstream.HostPort} (pid {bed.Upstream.Pid})");
            bed.Content = await UpstreamContent.PushAsync(bed.Upstream, settings, progress, cancellationToken);
            bed.NginxStatic = bed.Track(await Peers.NginxStatic.StartAsync(bed.Upstream.StorageDirectory, cancellationToken));
            bed.NginxProxyCache = bed.Track(await Peers.NginxProxyCache.StartAsync(bed.Upstream.BaseUri, cancellationToken));
            bed.RegistryProxy = bed.Track(await RegistryProcess.StartAsync(proxyOf: bed.Upstream.BaseUri, cancellationToken: cancellationToken));
            bed.Agent = bed.Track(await AgentProcess.StartAsync(AgentArguments(bed.Upstream), cancellationToken: cancellationToken));
            progress($"peers: agent {bed.Agent.BaseUri} (pid {bed.Agent.Pid}), nginx-static {bed.NginxStatic.BaseUri} (pid {bed.NginxStatic.Pid}), "
                + $"nginx-proxy-cache {bed.NginxProxyCache.BaseUri} (pid {bed.NginxProxyCache.Pid}), registry-proxy {bed.RegistryProxy.BaseUri} (pid {bed.RegistryProxy.Pid})");
            await bed.PrimeAsync(cancellationToken);
            return bed;
        }
        catch
        {
            await bed.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Reverse order: the caches stop before the upstream they read from.
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].DisposeAsync();
        }
        Client.Dispose();
    }

    /// <summary>
    /// After a miss through <paramref name="peer"/>: waits until that peer has stopped fetching <paramref name="digest"/>
    /// from the upstream (only the registry proxy goes on after its response), then until the upstream's log is quiet.
    /// </summary>
    public async Task<BlobTraffic> SettleAfterMissAsync(Peer peer, Digest digest, CancellationToken cancellationToken)
    {
        await WaitStoredAsync(peer, digest, cancellationToken);
        return await UpstreamTraffic.SettledAsync(Upstream, digest, cancellationToken);
    }

    /// <summary>Returns once <paramref name="peer"/> no longer fetches <paramref name="digest"/> in the background: at once for every peer but the registry proxy.</summary>
    public Task WaitStoredAsync(Peer peer, Digest digest, CancellationToken cancellationToken) =>
        peer.Name == Peer.RegistryProxy ? RegistryProxy.WaitStoredAsync(digest, cancellationToken) : Task.CompletedTask;

    /// <summary>A cold and a warm GET of a small blob through every peer: JIT, first connections and first cache writes happen here, unmeasured.</summary>
    private async Task PrimeAsync(CancellationToken cancellationToken)
    {
        var primer = Content.Primer;
        foreach (var peer in (IEnumerable<Peer>)[.. Caches, NginxStaticPeer, UpstreamPeer])
        {
            for (var i = 0; i < 2; i++)
            {
                await Client.DownloadAsync(peer.Blob(UpstreamContent.BlobRepository, primer.Digest), primer.Size, cancellationToken);
            }
            await SettleAfterMissAsync(peer, primer.Digest, cancellationToken);
        }
    }

    private T Track<T>(T peer)
        where T : IAsyncDisposable
    {
        _started.Add(peer);
        return peer;
    }
}
