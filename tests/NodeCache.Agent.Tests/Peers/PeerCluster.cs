using NodeCache.Agent.Tests.Support;
using NodeCache.Oci;
using NodeCache.Peers;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>One agent of a <see cref="PeerCluster"/>: its process, and the peer URL the others know it by.</summary>
internal sealed record PeerAgent(string PeerUrl, int PeerPort, AgentProcess? Process, FaultProxy? Proxy)
{
    public AgentProcess Agent => Process ?? throw new InvalidOperationException($"{PeerUrl} is a member nobody runs");
}

/// <summary>
/// A real registry holding one pushed image, and several real agents on 127.0.0.1 that share blobs over their peer APIs,
/// with the same static <c>--peers</c> list and one secret. A member may be left unstarted (a dead agent that is still
/// listed), or put behind a <see cref="FaultProxy"/> that the others reach it through (its <c>--peer-url</c> is the proxy's).
/// </summary>
internal sealed class PeerCluster : IAsyncDisposable
{
    public const string Namespace = "harbor.test";

    public const string Secret = "peer-secret-of-the-test-cluster";

    private readonly TempFolder _folder;

    // A CA of another cluster, and the member that serves a certificate of it.
    private TestCertificateAuthority? _stranger;
    private string? _untrusted;

    private PeerCluster(TempFolder folder, OciImageBuilder builder, RegistryProcess registry, FaultProxy? upstream, BuiltImage image, TestCertificateAuthority? tls)
    {
        _folder = folder;
        Tls = tls;
        Builder = builder;
        Registry = registry;
        Upstream = upstream;
        Image = image;
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, AutomaticDecompression = System.Net.DecompressionMethods.None, UseCookies = false })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public OciImageBuilder Builder { get; }

    public RegistryProcess Registry { get; }

    /// <summary>The fault proxy every agent reaches the registry through, when the cluster was started with one.</summary>
    public FaultProxy? Upstream { get; }

    public BuiltImage Image { get; }

    public HttpClient Http { get; }

    /// <summary>The CA whose certificate every agent serves its peer API with, when the cluster talks TLS.</summary>
    public TestCertificateAuthority? Tls { get; }

    private string Scheme => Tls is null ? "http" : "https";

    public IReadOnlyList<PeerAgent> Agents { get; private set; } = [];

    public string TokenFile => _folder.Combine("peer-token");

    /// <summary>Every member's peer URL, in the order of <see cref="Agents"/>.</summary>
    public IReadOnlyList<string> PeerUrls => [.. Agents.Select(a => a.PeerUrl)];

    /// <param name="members">One entry per member: how to run it.</param>
    /// <param name="upstreamProxy">Put a fault proxy between the agents and the registry (<see cref="Upstream"/>).</param>
    /// <param name="deadOwnerOf">Give each dead member a port that makes it the owner of the blob this picks from the image.</param>
    /// <param name="tls">Serve every peer API over TLS with this CA's certificate, and trust that CA alone.</param>
    /// <param name="untrustedOwnerOf">
    /// With <paramref name="tls"/>: the owner of the blob this picks serves a certificate that a CA of its own signed, not
    /// <paramref name="tls"/>, as a node set up with another cluster's certificate would; it trusts <paramref name="tls"/>.
    /// </param>
    public static async Task<PeerCluster> StartAsync(
        string repository, IReadOnlyList<long> layerSizes, int seed, IReadOnlyList<Member> members, IReadOnlyList<string>? extraArguments = null,
        bool upstreamProxy = false, Func<BuiltImage, Digest>? deadOwnerOf = null, TestCertificateAuthority? tls = null,
        Func<BuiltImage, Digest>? untrustedOwnerOf = null, CancellationToken cancellationToken = default)
    {
        var folder = TempFolder.Create("peers");
        var builder = new OciImageBuilder(seed);
        RegistryProcess? registry = null;
        FaultProxy? upstream = null;
        PeerCluster? cluster = null;
        try
        {
            var image = await builder.BuildAsync(repository, "1", layerSizes, cancellationToken: cancellationToken);
            registry = await RegistryProcess.StartAsync(cancellationToken: cancellationToken);
            await OciPusher.For(registry).PushAsync(image, cancellationToken);
            upstream = upstreamProxy ? await FaultProxy.StartAsync(registry.BaseUri, cancellationToken: cancellationToken) : null;
            cluster = new PeerCluster(folder, builder, registry, upstream, image, tls);
            await File.WriteAllTextAsync(cluster.TokenFile, Secret + "\n", cancellationToken);
            var planned = new List<(int Port, FaultProxy? Proxy, Member Member)>();
            foreach (var member in members.Where(m => m != Member.Dead))
            {
                var port = LoopbackPort.Next();
                var proxy = member == Member.Proxied ? await FaultProxy.StartAsync(new Uri($"http://127.0.0.1:{port}"), cancellationToken: cancellationToken) : null;
                planned.Add((port, proxy, member));
            }
            foreach (var _ in members.Where(m => m == Member.Dead))
            {
                planned.Add((DeadPort(cluster.Scheme, planned.Select(cluster.Url), deadOwnerOf?.Invoke(image)), null, Member.Dead));
            }
            var urls = planned.Select(cluster.Url).ToList();
            var agents = planned.Select((p, i) => new PeerAgent(urls[i], p.Port, null, p.Proxy)).ToList();
            cluster.Agents = agents;
            if (untrustedOwnerOf is not null)
            {
                cluster._stranger = tls is not null ? TestCertificateAuthority.Create() : throw new ArgumentException("an untrusted member needs a TLS cluster", nameof(untrustedOwnerOf));
                cluster._untrusted = cluster.Owner(untrustedOwnerOf(image)).PeerUrl;
            }
            for (var i = 0; i < agents.Count; i++)
            {
                if (planned[i].Member != Member.Dead)
                {
                    agents[i] = agents[i] with { Process = await cluster.StartAgentAsync(agents[i], extraArguments ?? [], cancellationToken) };
                    cluster.Agents = agents;
                }
            }
            return cluster;
        }
        catch
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
            else
            {
                if (registry is not null)
                {
                    await registry.DisposeAsync();
                }
                builder.Dispose();
                folder.Dispose();
            }
            throw;
        }
    }

    /// <summary>The arguments agent <paramref name="agent"/> runs with: the registry as upstream, its peer API, the static list and the secret.</summary>
    public IReadOnlyList<string> Arguments(PeerAgent agent, IReadOnlyList<string> extra) =>
    [
        .. AgentProcess.Upstream(Namespace, Upstream?.BaseUri ?? Registry.BaseUri), "--connect-timeout", "1s",
        "--peer-listen", $"127.0.0.1:{agent.PeerPort}", "--peer-url", agent.PeerUrl,
        "--peers", string.Join(',', PeerUrls), "--peer-token-file", TokenFile,
        .. Tls is null ? (string[])[] : TlsArguments(agent.PeerUrl == _untrusted ? _stranger! : Tls, Tls),
        .. Patient(extra),
        .. extra,
    ];

    private static string[] TlsArguments(TestCertificateAuthority served, TestCertificateAuthority trusted) =>
        ["--peer-tls-cert", served.CertificatePath, "--peer-tls-key", served.KeyPath, "--peer-tls-ca", trusted.CaPath];

    // Loopback answers in microseconds, but this machine's two cores are shared with other test classes running at the same
    // time, and a starved agent has been seen to leave 2 s gaps in a stream; each such miss makes an agent go to the upstream
    // itself, which the tests count. The connect timeout judges only whether a member's kernel answers (a TLS handshake, which
    // waits for both agents' CPU, falls under the answer's time), so it is raised only to spare the first connects of agents
    // still starting. The tests that are about those timeouts set them themselves, and members that are down here refuse
    // connections at once.
    private static string[] Patient(IReadOnlyList<string> extra) =>
    [
        .. extra.Contains("--peer-connect-timeout") ? (string[])[] : ["--peer-connect-timeout", "1s"],
        .. extra.Contains("--peer-stall-timeout") ? (string[])[] : ["--peer-stall-timeout", "10s"],
    ];

    /// <summary>The members in the order every agent computes for <paramref name="digest"/>, owner first.</summary>
    public IReadOnlyList<PeerAgent> Ranked(Digest digest) =>
        [.. Agents.OrderByDescending(a => PeerOwnership.Score(a.PeerUrl, digest)).ThenBy(a => a.PeerUrl, StringComparer.Ordinal)];

    public PeerAgent Owner(Digest digest) => Ranked(digest)[0];

    public Uri BlobUri(PeerAgent agent, Digest digest) => new(agent.Agent.BaseUri, $"/v2/{Image.Repository}/blobs/{digest}?ns={Namespace}");

    /// <summary>A GET of the blob through <paramref name="agent"/>'s registry API, as containerd sends it, hashed as it streams.</summary>
    public BlobDownload Download(PeerAgent agent, Digest digest, CancellationToken cancellationToken) =>
        BlobDownload.Start(Http, () => new HttpRequestMessage(HttpMethod.Get, BlobUri(agent, digest)), cancellationToken);

    public static bool IsCached(PeerAgent agent, Digest digest) => File.Exists(Path.Combine(agent.Agent.CacheDir, "blobs", "sha256", digest.Hex));

    public Task<AgentMetrics> MetricsAsync(PeerAgent agent, CancellationToken cancellationToken) =>
        AgentMetrics.ReadAsync(Http, agent.Agent.BaseUri, cancellationToken);

    public string Logs() => string.Join("\n", Agents.Where(a => a.Process is not null).Select(a => a.Agent.LogTail(40)));

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Agents)
        {
            if (agent.Process is not null)
            {
                await agent.Process.DisposeAsync();
            }
            if (agent.Proxy is not null)
            {
                await agent.Proxy.DisposeAsync();
            }
        }
        Http.Dispose();
        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
        await Registry.DisposeAsync();
        Builder.Dispose();
        _stranger?.Dispose();
        _folder.Dispose();
    }

    // A free port nothing will listen on; with a digest, one whose URL outranks every other member's for it.
    private static int DeadPort(string scheme, IEnumerable<string> others, Digest? owned)
    {
        var rivals = others.Select(url => PeerOwnership.Score(url, owned.GetValueOrDefault())).DefaultIfEmpty().Max();
        while (true)
        {
            var port = LoopbackPort.Next();
            if (owned is not { } digest || PeerOwnership.Score($"{scheme}://127.0.0.1:{port}", digest) > rivals)
            {
                return port;
            }
        }
    }

    private string Url((int Port, FaultProxy? Proxy, Member Member) planned) =>
        planned.Proxy is { } proxy ? PeerMember.CanonicalUrl(proxy.BaseUri.ToString()) : $"{Scheme}://127.0.0.1:{planned.Port}";

    private Task<AgentProcess> StartAgentAsync(PeerAgent agent, IReadOnlyList<string> extra, CancellationToken cancellationToken) =>
        AgentProcess.StartAsync(Arguments(agent, extra), cancellationToken: cancellationToken);

    /// <summary>How a member of the cluster is run.</summary>
    public enum Member
    {
        /// <summary>An agent the others reach directly.</summary>
        Running,

        /// <summary>An agent the others reach through a fault proxy.</summary>
        Proxied,

        /// <summary>Listed, never started: nothing listens at its URL.</summary>
        Dead,
    }
}
