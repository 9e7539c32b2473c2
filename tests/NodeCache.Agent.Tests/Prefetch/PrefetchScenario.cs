using NodeCache.Agent.Tests.Support;
using NodeCache.Oci;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Prefetch;

/// <summary>
/// A real registry, the fake Kubernetes API with this node's Node object, and the real agent started with
/// <c>--kubeconfig</c> and <c>--node-name</c> against them. Disposes them all, agent first.
/// </summary>
internal sealed class PrefetchScenario : IAsyncDisposable
{
    public const string Namespace = MirrorScenario.Namespace;
    public const string NodeName = "node-1";

    private readonly TempFolder _folder;

    private PrefetchScenario(TempFolder folder, RegistryProcess registry, FakeApiServer api, OciImageBuilder builder)
    {
        _folder = folder;
        Registry = registry;
        Api = api;
        Builder = builder;
    }

    public RegistryProcess Registry { get; }

    /// <summary>The kubeconfig the agent was started with.</summary>
    public string Kubeconfig => _folder.Combine("kubeconfig");

    public FakeApiServer Api { get; }

    public OciImageBuilder Builder { get; }

    public AgentProcess Agent { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <param name="anonymousKubeconfig">The kubeconfig's user has no credentials, as for <c>kubectl proxy</c>.</param>
    public static async Task<PrefetchScenario> StartAsync(int seed, string architecture = "amd64", RegistryProcess? registry = null, bool anonymousKubeconfig = false, params string[] agentArguments)
    {
        var folder = TempFolder.Create("prefetch");
        registry ??= await RegistryProcess.StartAsync();
        var api = await FakeApiServer.StartAsync();
        var scenario = new PrefetchScenario(folder, registry, api, new OciImageBuilder(seed));
        try
        {
            api.Apply(KubernetesObjects.Node(NodeName, architecture));
            var kubeconfig = folder.Combine("kubeconfig");
            api.WriteKubeconfig(kubeconfig, anonymousKubeconfig);
            scenario.Agent = await AgentProcess.StartAsync(
                [.. AgentProcess.Upstream(Namespace, registry.BaseUri), "--kubeconfig", kubeconfig, "--node-name", NodeName, .. agentArguments]);
            await scenario.WaitForLogAsync("Listed pods on", "the agent listed the node's pods");
            return scenario;
        }
        catch
        {
            await scenario.DisposeAsync();
            throw;
        }
    }

    public async Task<BuiltImage> PushImageAsync(string repository, IReadOnlyList<long> layerSizes, string tag = "1")
    {
        var image = await Builder.BuildAsync(repository, tag, layerSizes);
        await OciPusher.For(Registry).PushAsync(image);
        return image;
    }

    public bool IsCached(Digest digest) => File.Exists(Path.Combine(Agent.CacheDir, "blobs", "sha256", digest.Hex));

    public bool IsCached(BuiltImage image) => IsCached(image.ManifestDigest) && image.Blobs.All(b => IsCached(b.Digest));

    /// <summary>Upstream GETs of each blob of the image, from the registry's own log.</summary>
    public async Task<IReadOnlyList<int>> BlobGetsAsync(BuiltImage image)
    {
        var counts = new List<int>();
        foreach (var blob in image.Blobs)
        {
            counts.Add(await Registry.CountBlobGetsAsync(blob.Digest));
        }
        return counts;
    }

    /// <summary>Lines of the agent's log holding <paramref name="text"/>.</summary>
    public int LogLines(string text) => Agent.Output.Text().Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    public Task WaitCachedAsync(BuiltImage image, string what) => WaitUntilAsync(() => IsCached(image), what);

    public Task WaitForLogAsync(string text, string what) => WaitUntilAsync(() => LogLines(text) > 0, what);

    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting until {what}\n{string.Join('\n', Api.Requests().TakeLast(20))}\n{Agent?.LogTail()}");
            }
            await Task.Delay(50);
        }
    }

    public Task<AgentMetrics> MetricsAsync() => AgentMetrics.ReadAsync(Http, Agent.BaseUri, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }
        await Api.DisposeAsync();
        await Registry.DisposeAsync();
        Builder.Dispose();
        Http.Dispose();
        _folder.Dispose();
    }
}
