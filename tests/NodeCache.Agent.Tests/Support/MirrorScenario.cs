using NodeCache.Testing;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Support;

/// <summary>
/// A real registry holding one pushed image, optionally a <see cref="FaultProxy"/> in front of it, and a real agent whose
/// upstream for <see cref="Namespace"/> is the proxy (or the registry). Disposes them all, agent first.
/// </summary>
internal sealed class MirrorScenario : IAsyncDisposable
{
    /// <summary>The registry name the agent is asked for in <c>?ns=</c>.</summary>
    public const string Namespace = "harbor.test";

    private MirrorScenario(OciImageBuilder builder, RegistryProcess registry, FaultProxy? proxy, BuiltImage image)
    {
        Builder = builder;
        Registry = registry;
        Proxy = proxy;
        Image = image;
        Http = new HttpClient(new SocketsHttpHandler
        {
            // Enough for every concurrent client of a test to have its own connection.
            MaxConnectionsPerServer = 256,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    public OciImageBuilder Builder { get; }

    public RegistryProcess Registry { get; }

    public FaultProxy? Proxy { get; }

    public AgentProcess Agent { get; private set; } = null!;

    public BuiltImage Image { get; }

    /// <summary>For requests to the agent; connections are not capped.</summary>
    public HttpClient Http { get; }

    public BlobFile Layer => Image.Layers[0];

    public string BlobDirectory => Path.Combine(Agent.CacheDir, "blobs", "sha256");

    public string TempDirectory => Path.Combine(Agent.CacheDir, "tmp");

    /// <summary>Builds and pushes an image with the given layer sizes, then starts the agent (behind a fault proxy when asked).</summary>
    public static Task<MirrorScenario> StartAsync(
        string repository,
        IReadOnlyList<long> layerSizes,
        int seed,
        bool throughProxy = false,
        CancellationToken cancellationToken = default) =>
        StartAsync(repository, layerSizes, seed, throughProxy, [], null, cancellationToken);

    /// <summary>As above, with arguments of the test's own for the agent, and its cache in <paramref name="cacheDir"/> when given.</summary>
    public static async Task<MirrorScenario> StartAsync(
        string repository,
        IReadOnlyList<long> layerSizes,
        int seed,
        bool throughProxy,
        IReadOnlyList<string> agentArguments,
        string? cacheDir,
        CancellationToken cancellationToken)
    {
        var builder = new OciImageBuilder(seed);
        RegistryProcess? registry = null;
        FaultProxy? proxy = null;
        MirrorScenario? scenario = null;
        try
        {
            var image = await builder.BuildAsync(repository, "1", layerSizes, cancellationToken: cancellationToken);
            registry = await RegistryProcess.StartAsync(cancellationToken: cancellationToken);
            await OciPusher.For(registry).PushAsync(image, cancellationToken);
            if (throughProxy)
            {
                proxy = await FaultProxy.StartAsync(registry.BaseUri, cancellationToken: cancellationToken);
            }
            scenario = new MirrorScenario(builder, registry, proxy, image);
            scenario.Agent = await AgentProcess.StartAsync(
                [.. AgentProcess.Upstream(Namespace, proxy?.BaseUri ?? registry.BaseUri), "--connect-timeout", "1s", .. agentArguments],
                cacheDir,
                cancellationToken: cancellationToken);
            return scenario;
        }
        catch
        {
            if (scenario is not null)
            {
                await scenario.DisposeAsync();
            }
            else
            {
                if (proxy is not null)
                {
                    await proxy.DisposeAsync();
                }
                if (registry is not null)
                {
                    await registry.DisposeAsync();
                }
                builder.Dispose();
            }
            throw;
        }
    }

    public Uri BlobUri(Digest digest) => new(Agent.BaseUri, $"/v2/{Image.Repository}/blobs/{digest}?ns={Namespace}");

    public HttpRequestMessage BlobRequest(Digest digest, HttpMethod? method = null, string? range = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, BlobUri(digest));
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }
        return request;
    }

    /// <summary>Starts a GET of the blob whose body is hashed as it arrives.</summary>
    public BlobDownload Download(Digest digest, string? range = null, CancellationToken cancellationToken = default) =>
        BlobDownload.Start(Http, () => BlobRequest(digest, range: range), cancellationToken);

    public string CachedPath(Digest digest) => Path.Combine(BlobDirectory, digest.Hex);

    public bool IsCached(Digest digest) => File.Exists(CachedPath(digest));

    /// <summary>
    /// GETs the blob through the agent and asserts that it is warm in the cache: served whole, its file in place and its record
    /// indexed, so the next request for it is a cache hit.
    /// </summary>
    public async Task WarmAsync(BlobFile blob, CancellationToken cancellationToken)
    {
        var read = await Download(blob.Digest, cancellationToken: cancellationToken).Completion;
        Assert.True(read.Status == System.Net.HttpStatusCode.OK && read.Complete && read.BodyDigest == blob.Digest, $"{read}\n{Agent.LogTail()}");
        AssertCached(blob);
        await WaitIndexedAsync(blob.Digest, cancellationToken);
    }

    /// <summary>Asserts the blob's file is in the cache, as large as the blob.</summary>
    public void AssertCached(BlobFile blob)
    {
        var cached = new FileInfo(CachedPath(blob.Digest));
        Assert.True(cached.Exists, $"{cached.FullName} is missing\n{Agent.LogTail()}");
        Assert.Equal(blob.Size, cached.Length);
    }

    /// <summary>Files under tmp/: fills in progress, or what a failed fill left behind.</summary>
    public IReadOnlyList<string> TempFiles() => Directory.Exists(TempDirectory) ? Directory.GetFiles(TempDirectory) : [];

    public Task<AgentMetrics> MetricsAsync(CancellationToken cancellationToken = default) =>
        AgentMetrics.ReadAsync(Http, Agent.BaseUri, cancellationToken);

    /// <summary>
    /// Polls <c>/metrics</c> until the sample matches: the exporter caches a scrape for a moment, so a counter bumped just
    /// now may show only on a later scrape. Fails with the last scrape when the wait runs out.
    /// </summary>
    public async Task<double> WaitForMetricAsync(
        string name,
        IReadOnlyDictionary<string, string> labels,
        Func<double, bool> expected,
        CancellationToken cancellationToken,
        TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var metrics = await MetricsAsync(cancellationToken);
            var value = metrics.Value(name, labels);
            if (expected(value))
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{name}{{{string.Join(',', labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} stayed at {value}\n{metrics.Text}\n{Agent.LogTail()}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Waits until the agent indexed the blob: the client has every byte once the file is in place, and the record follows
    /// once the file is flushed to disk.
    /// </summary>
    public Task WaitIndexedAsync(Digest digest, CancellationToken cancellationToken) =>
        WaitUntilAsync(() => Agent.Output.Text().Contains($"Cached blob {digest}", StringComparison.Ordinal), $"blob {digest} is indexed", cancellationToken);

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> and the agent's log otherwise.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting until {what}\n{Agent.LogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }
        Http.Dispose();
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
        await Registry.DisposeAsync();
        Builder.Dispose();
    }
}
