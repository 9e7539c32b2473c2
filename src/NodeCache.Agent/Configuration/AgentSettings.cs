using NodeCache.Upstream;
using YamlDotNet.Serialization;

namespace NodeCache.Agent.Configuration;

/// <summary>
/// Reads the agent's options from flags, <c>NODECACHE_*</c> environment variables and a YAML or JSON <c>--config</c> file,
/// in that order of precedence, with the same names in all three (<c>--cache-dir</c>, <c>NODECACHE_CACHE_DIR</c>, <c>cache-dir:</c>).
/// Every mistake is one <see cref="FormatException"/> line that names the setting.
/// </summary>
internal static class AgentSettings
{
    private const string EnvironmentPrefix = "NODECACHE_";

    private static readonly Setting[] All =
    [
        new("listen", "ADDR", "address to serve the registry API, /metrics and probes on (repeatable)", true,
            (o, v) => o with { Listen = v.Select(ListenAddress.Validate).ToArray() }),
        new("cache-dir", "DIR", "folder for cached blobs and the index", false, (o, v) => o with { CacheDir = AbsolutePath(v[0]) }),
        new("cache-size", "SIZE", "cache size limit: bytes (20GiB) or a share of the disk (80%)", false,
            (o, v) => o with { CacheSize = CacheSize.Parse(v[0]) }),
        new("upstream", "NS=URL[,URL...]", "where registry NS is fetched from; a URL path is a Harbor proxy-cache project; NS _default matches any registry (repeatable)", true,
            (o, v) => o with { Upstreams = Validated(v, UpstreamRulesCheck) }),
        new("credentials", "HOST=FILE|env:VAR", "upstream credentials: a file with user:password, a Secret folder with username and password, or a variable (repeatable)", true,
            (o, v) => o with { Credentials = v }),
        new("default-registry", "NS", "registry of requests without ?ns= (default docker.io)", false, (o, v) => o with { DefaultRegistry = v[0] }),
        new("ca-file", "PEM", "extra CA certificates trusted for upstream TLS", false, (o, v) => o with { CaFile = v[0] }),
        new("connect-timeout", "DURATION", "upstream connect timeout (default 2s)", false,
            (o, v) => o with { ConnectTimeout = Duration.Parse(v[0], "connect-timeout") }),
        new("tag-ttl", "DURATION", "how long a tag is served before asking the upstream again (default 1m)", false,
            (o, v) => o with { TagTtl = Duration.Parse(v[0], "tag-ttl") }),
        new("checkpoint-interval", "DURATION", "how often a changed index is checkpointed (default 30s)", false,
            (o, v) => o with { CheckpointInterval = Duration.Parse(v[0], "checkpoint-interval") }),
        new("log-level", "LEVEL", "Trace, Debug, Information, Warning or Error (default Information)", false,
            (o, v) => o with { LogLevel = LogLevelName(v[0]) }),
        new("manifest-revalidate", "DURATION|off", "how often a cached manifest by digest is re-checked with the upstream; 0 = every request, off = never (default 5m)", false,
            (o, v) => o with { ManifestRevalidate = v[0].Trim() == "off" ? null : Duration.Parse(v[0], "manifest-revalidate") }),
        new("node-name", "NAME", "this node's name: prefetch the images of the pods bound to it (the chart passes spec.nodeName)", false,
            (o, v) => o with { NodeName = v[0] }),
        new("kubeconfig", "FILE", "kubeconfig for the Kubernetes API (default: in-cluster when KUBERNETES_SERVICE_HOST is set; neither: no prefetch)", false,
            (o, v) => o with { Kubeconfig = v[0] }),
        new("prefetch-concurrency", "N", "images prefetched at once (default 2)", false,
            (o, v) => o with { PrefetchConcurrency = PrefetchSettings.Concurrency(v[0]) }),
        new("prefetch-bandwidth", "RATE", "cap on the bytes per second prefetch fills take, e.g. 50MiB/s (default unlimited)", false,
            (o, v) => o with { PrefetchBandwidth = PrefetchSettings.Bandwidth(v[0]) }),
        new("pull-secrets", "true|false", "read pods' imagePullSecrets to prefetch private images (default false)", false,
            (o, v) => o with { PullSecrets = PrefetchSettings.Flag(v[0]) }),
        new("private-images", "serve|verify|passthrough", "who gets a cached private image (default verify; see docs/prefetch.md)", false,
            (o, v) => o with { PrivateImages = PrefetchSettings.PrivateImages(v[0]) }),
        new("control-socket", "PATH", "Unix socket of the control API the nodecache CLI uses, mode 0660 (default $XDG_RUNTIME_DIR/nodecache/control.sock, else control.sock in the cache folder)", false,
            (o, v) => o with { ControlSocket = AbsolutePath(v[0]) }),
        new("control-listen", "ADDR", "also serve the control API over h2c on this TCP address, for cluster tooling (e.g. 127.0.0.1:5051)", false,
            (o, v) => o with { ControlListen = ListenAddress.Validate(v[0]) }),
        new("metrics-listen", "ADDR", "also serve /metrics and the probes, and nothing else, on this address (e.g. the node's IP for Prometheus)", false,
            (o, v) => o with { MetricsListen = ListenAddress.Validate(v[0]) }),
        new("cache-high-watermark", "PERCENT", "eviction starts when the cache holds more than this share of --cache-size (default 90%)", false,
            (o, v) => o with { HighWatermark = Share(v[0]) }),
        new("cache-low-watermark", "PERCENT", "eviction removes least recently used blobs down to this share of --cache-size (default 80%)", false,
            (o, v) => o with { LowWatermark = Share(v[0]) }),
        new("eviction-interval", "DURATION", "how often the cache size is checked against the high watermark (default 10s)", false,
            (o, v) => o with { EvictionInterval = Duration.Parse(v[0], "eviction-interval") }),
        new("scrub-rate", "BYTES", "bytes per second the scrub re-hashes cached blobs at; 0 turns it off (default 8MiB)", false,
            (o, v) => o with { ScrubRate = v[0].Trim() == "0" ? 0 : CacheSize.Parse(v[0]).Bytes ?? throw new FormatException($"'{v[0]}' is a share, not bytes per second") }),
        new("scrub-interval", "DURATION", "pause between scrub passes, and before the first (default 24h)", false,
            (o, v) => o with { ScrubInterval = Duration.Parse(v[0], "scrub-interval") }),
        new("disk-reserve", "BYTES", "free space a fill must leave on the cache disk, else it is served uncached (default 256MiB)", false,
            (o, v) => o with { DiskReserve = CacheSize.Parse(v[0]).Bytes ?? throw new FormatException($"'{v[0]}' is a share, not bytes") }),
        new("peer-listen", "ADDR", "address of the peer API other agents fetch blobs from (the node's IP in the chart); peering is off without it", false,
            (o, v) => o with { PeerListen = ListenAddress.Validate(v[0]) }),
        new("peer-url", "URL", "how the other agents reach this one (default http(s)://<peer-listen>)", false,
            (o, v) => o with { PeerUrl = PeerSettings.Url(v[0]) }),
        new("peers", "URL[,URL...]", "static membership: every agent's peer URL, this one's included (repeatable)", true,
            (o, v) => o with { Peers = PeerSettings.Urls(v) }),
        new("peers-service", "NAMESPACE/NAME", "membership from the EndpointSlices of this headless Service over the agents' pods", false,
            (o, v) => o with { PeersService = PeerSettings.Service(v[0]) }),
        new("peer-token-file", "FILE", "the cluster's shared peer secret, required with --peer-listen", false, (o, v) => o with { PeerTokenFile = v[0] }),
        new("peer-tls-cert", "PEM", "certificate the peer API serves TLS with (with --peer-tls-key)", false, (o, v) => o with { PeerTlsCert = v[0] }),
        new("peer-tls-key", "PEM", "private key of --peer-tls-cert", false, (o, v) => o with { PeerTlsKey = v[0] }),
        new("peer-tls-ca", "PEM", "CA the other agents' peer certificates must chain to", false, (o, v) => o with { PeerTlsCa = v[0] }),
        new("peer-zone-local", "true|false", "choose each blob's owner among the agents of this node's zone only (default false)", false,
            (o, v) => o with { PeerZoneLocal = PrefetchSettings.Flag(v[0]) }),
        new("peer-uploads-per-blob", "N", "uploads of one blob to other agents at once; more are redirected to agents receiving it (default 4)", false,
            (o, v) => o with { PeerUploadsPerBlob = PeerSettings.Uploads(v[0]) }),
        new("peer-uploads", "N", "uploads to other agents at once, of all blobs; beyond it agents are redirected to agents receiving the blob (default 8)", false,
            (o, v) => o with { PeerUploads = PeerSettings.Uploads(v[0]) }),
        new("peer-connect-timeout", "DURATION", "a peer that does not accept a connection, or acknowledge a request, within this is passed over (default 200ms)", false,
            (o, v) => o with { PeerConnectTimeout = Duration.Parse(v[0], "peer-connect-timeout") }),
        new("peer-stall-timeout", "DURATION", "no bytes from a peer for this long and the fill continues elsewhere (default 2s)", false,
            (o, v) => o with { PeerStallTimeout = Duration.Parse(v[0], "peer-stall-timeout") }),
        new("peer-min-rate", "RATE", "a peer slower than this over 3 s is left for the next origin; 0 never (default 2MiB/s)", false,
            (o, v) => o with { PeerMinRate = v[0].Trim() == "0" ? 0 : PrefetchSettings.Bandwidth(v[0]) }),
        new("shutdown-timeout", "DURATION", "on SIGTERM, how long in-flight responses may take to finish before the final checkpoint (default 25s)", false,
            (o, v) => o with { ShutdownTimeout = Duration.Parse(v[0], "shutdown-timeout") }),
    ];

    public static string Usage
    {
        get
        {
            // One column for the flags as typed, wide enough for the longest, so every description starts in the same place.
            (string Flag, string Help)[] rows = [.. All.Select(s => ($"--{s.Name} {s.Placeholder}", s.Help)), ("--config FILE", "YAML or JSON file with the same keys")];
            var width = rows.Max(r => r.Flag.Length);
            return "usage: nodecache-agent [--config FILE] [options]\n\n" +
                string.Join('\n', rows.Select(r => $"  {r.Flag.PadRight(width)}  {r.Help}")) + "\n\n" +
                "Each option may also come from NODECACHE_<NAME> (e.g. NODECACHE_CACHE_DIR); list values there are separated by spaces or ';'.";
        }
    }

    /// <summary>The options, or a <see cref="FormatException"/> naming the first bad setting.</summary>
    public static AgentOptions Load(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var fromFlags = ParseFlags(args, out var configFile);
        configFile ??= environment(EnvironmentPrefix + "CONFIG");
        var fromFile = configFile is null ? [] : ReadConfigFile(configFile);
        var options = new AgentOptions();
        foreach (var setting in All)
        {
            var values = fromFlags.GetValueOrDefault(setting.Name)
                ?? FromEnvironment(setting, environment)
                ?? fromFile.GetValueOrDefault(setting.Name);
            if (values is { Count: > 0 })
            {
                options = Apply(setting, options, values);
            }
        }
        if (options.LowWatermark >= options.HighWatermark)
        {
            throw new FormatException("--cache-low-watermark must be below --cache-high-watermark");
        }
        return PeerSettings.Check(options);
    }

    public static bool WantsHelp(IReadOnlyList<string> args) => args.Any(a => a is "--help" or "-h");

    private static Dictionary<string, List<string>> ParseFlags(IReadOnlyList<string> args, out string? configFile)
    {
        configFile = null;
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new FormatException($"unexpected argument '{arg}' (see --help)");
            }
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[2..equals] : arg[2..];
            string value;
            if (equals > 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                throw new FormatException($"--{name} needs a value");
            }
            if (name == "config")
            {
                configFile = value;
                continue;
            }
            var setting = Find(name) ?? throw new FormatException($"unknown option --{name} (see --help)");
            if (values.TryGetValue(setting.Name, out var list))
            {
                if (!setting.Repeatable)
                {
                    throw new FormatException($"--{name} is given twice");
                }
                list.Add(value);
            }
            else
            {
                values[setting.Name] = [value];
            }
        }
        return values;
    }

    private static List<string>? FromEnvironment(Setting setting, Func<string, string?> environment)
    {
        var value = environment(EnvironmentPrefix + setting.Name.Replace('-', '_').ToUpperInvariant());
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        return setting.Repeatable
            ? [.. value.Split([' ', ';', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : [value.Trim()];
    }

    private static Dictionary<string, List<string>> ReadConfigFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--config '{path}': {ex.Message}");
        }
        Dictionary<string, object?>? document;
        try
        {
            // JSON is YAML, so one parser reads both.
            document = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(text);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new FormatException($"--config '{path}': not YAML or JSON at line {ex.Start.Line}: {ex.InnerException?.Message ?? ex.Message}");
        }
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (key, value) in document ?? [])
        {
            var setting = Find(key) ?? throw new FormatException($"--config '{path}': unknown key '{key}'");
            values[setting.Name] = value switch
            {
                null => [],
                IEnumerable<object> items when setting.Repeatable => [.. items.Select(item => item?.ToString() ?? "")],
                IEnumerable<object> => throw new FormatException($"--config '{path}': '{key}' takes one value, not a list"),
                IDictionary<object, object> => throw new FormatException($"--config '{path}': '{key}' takes a value, not a map"),
                _ => [value.ToString() ?? ""],
            };
        }
        return values;
    }

    // Flags are kebab-case; config files may also use camelCase, as Helm values do.
    private static Setting? Find(string name)
    {
        var normalized = name.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        return All.FirstOrDefault(s => string.Equals(s.Name.Replace("-", "", StringComparison.Ordinal), normalized, StringComparison.OrdinalIgnoreCase));
    }

    private static AgentOptions Apply(Setting setting, AgentOptions options, List<string> values)
    {
        try
        {
            return setting.Apply(options, values);
        }
        catch (FormatException ex)
        {
            throw new FormatException(ex.Message.StartsWith($"--{setting.Name}", StringComparison.Ordinal) ? ex.Message : $"--{setting.Name}: {ex.Message}");
        }
    }

    private static string[] Validated(List<string> values, Action<List<string>> check)
    {
        check(values);
        return [.. values];
    }

    private static void UpstreamRulesCheck(List<string> specs) => UpstreamRules.Parse(specs);

    // Relative to the folder the agent starts in, resolved once: Kestrel takes only absolute Unix socket paths, and a log
    // line naming the cache should say where it is.
    private static string AbsolutePath(string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new FormatException("needs a path") : Path.GetFullPath(value.Trim());

    private static double Share(string value) =>
        CacheSize.Parse(value).Percent is { } percent ? percent / 100 : throw new FormatException($"'{value}' is not a share like 90%");

    private static string LogLevelName(string value) =>
        Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(value, ignoreCase: true, out var level)
            ? level.ToString()
            : throw new FormatException($"'{value}' is not a log level (Trace, Debug, Information, Warning, Error)");

    private sealed record Setting(string Name, string Placeholder, string Help, bool Repeatable, Func<AgentOptions, List<string>, AgentOptions> Apply);
}
