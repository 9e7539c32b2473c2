using NodeCache.Access;

namespace NodeCache.Agent.Configuration;

/// <summary>Everything the agent is told at start, with the defaults that make it a working mirror with no flags at all.</summary>
internal sealed record AgentOptions
{
    public const string DefaultListen = "127.0.0.1:5050";

    public IReadOnlyList<string> Listen { get; init; } = [DefaultListen];

    public string CacheDir { get; init; } = DefaultCacheDir();

    public CacheSize CacheSize { get; init; } = CacheSize.Parse("20GiB");

    /// <summary><c>NS=URL[,URL...]</c> rules; none means every registry is fetched directly from <c>https://&lt;ns&gt;</c>.</summary>
    public IReadOnlyList<string> Upstreams { get; init; } = [];

    /// <summary><c>HOST=PATH</c> or <c>HOST=env:VAR</c>.</summary>
    public IReadOnlyList<string> Credentials { get; init; } = [];

    /// <summary>The registry a request without <c>?ns=</c> is for: a client talking to the mirror directly.</summary>
    public string DefaultRegistry { get; init; } = "docker.io";

    public string? CaFile { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan TagTtl { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the index is checkpointed when it changed; recovery replays from the last one.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(30);

    public string LogLevel { get; init; } = "Information";

    /// <summary>How often a cached manifest by digest is re-checked with the upstream; null never re-checks.</summary>
    public TimeSpan? ManifestRevalidate { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The node whose pods' images are prefetched; null with no Kubernetes API turns prefetch off.</summary>
    public string? NodeName { get; init; }

    public string? Kubeconfig { get; init; }

    public int PrefetchConcurrency { get; init; } = 2;

    /// <summary>Bytes per second; null is unlimited.</summary>
    public long? PrefetchBandwidth { get; init; }

    public bool PullSecrets { get; init; }

    public PrivateImageMode PrivateImages { get; init; } = PrivateImageMode.Verify;

    /// <summary>The control API's Unix socket; null means the default beside the runtime or cache folder.</summary>
    public string? ControlSocket { get; init; }

    /// <summary>A TCP address to serve the control API on as well (h2c); none by default.</summary>
    public string? ControlListen { get; init; }

    /// <summary>An address serving only <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>, so Prometheus can scrape without reaching the mirror.</summary>
    public string? MetricsListen { get; init; }

    /// <summary>Share of the cache size above which eviction starts.</summary>
    public double HighWatermark { get; init; } = 0.9;

    /// <summary>Share of the cache size eviction brings the cache down to.</summary>
    public double LowWatermark { get; init; } = 0.8;

    public TimeSpan EvictionInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes per second the scrub hashes; 0 turns it off. 8 MiB/s re-reads a full 20 GiB cache in under an hour of disk time.</summary>
    public long ScrubRate { get; init; } = 8L << 20;

    public TimeSpan ScrubInterval { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Free space a new fill must leave on the cache's filesystem.</summary>
    public long DiskReserve { get; init; } = 256L << 20;

    /// <summary>The peer API's address; null turns peering off.</summary>
    public string? PeerListen { get; init; }

    /// <summary>How the other agents reach this one; by default derived from <see cref="PeerListen"/>.</summary>
    public string? PeerUrl { get; init; }

    /// <summary>Static membership: every agent's peer URL, this one's included.</summary>
    public IReadOnlyList<string> Peers { get; init; } = [];

    /// <summary><c>NAMESPACE/NAME</c> of the headless Service whose EndpointSlices are the membership.</summary>
    public string? PeersService { get; init; }

    public string? PeerTokenFile { get; init; }

    public string? PeerTlsCert { get; init; }

    public string? PeerTlsKey { get; init; }

    public string? PeerTlsCa { get; init; }

    /// <summary>Owners only within this agent's zone.</summary>
    public bool PeerZoneLocal { get; init; }

    public int PeerUploadsPerBlob { get; init; } = 4;

    public int PeerUploads { get; init; } = 8;

    public TimeSpan PeerConnectTimeout { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan PeerStallTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Bytes per second below which a peer is left for the next origin; 0 never judges the rate.</summary>
    public long PeerMinRate { get; init; } = 2L << 20;

    /// <summary>Below the DaemonSet's default 30 s grace period, so the final checkpoint is written before SIGKILL.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(25);

    // The user's cache folder, as XDG names it: a mirror's data is re-creatable, so it is cache, not state.
    private static string DefaultCacheDir() => NodeCache.Control.DefaultPaths.CacheDir();
}
