using System.Text.Json.Nodes;
using NodeCache.Agent.Tests.Support;
using NodeCache.Oci;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Agent.Tests.Kubernetes;

/// <summary>
/// A cluster in miniature: one real registry, the fake Kubernetes API, and a real agent per node, each started with
/// <c>--kubeconfig</c> and its own <c>--node-name</c> and cache. Disposes them all, agents first.
/// </summary>
internal sealed class ClusterPrewarmScenario : IAsyncDisposable
{
    public const string Namespace = MirrorScenario.Namespace;

    private readonly TempFolder _folder;
    private readonly Dictionary<string, AgentProcess> _agents = new(StringComparer.Ordinal);

    private ClusterPrewarmScenario(TempFolder folder, RegistryProcess registry, FakeApiServer api, OciImageBuilder builder)
    {
        _folder = folder;
        Registry = registry;
        Api = api;
        Builder = builder;
        Kubeconfig = folder.Combine("kubeconfig");
        api.WriteKubeconfig(Kubeconfig);
    }

    public RegistryProcess Registry { get; }

    public FakeApiServer Api { get; }

    public OciImageBuilder Builder { get; }

    public string Kubeconfig { get; }

    public static async Task<ClusterPrewarmScenario> StartAsync(int seed)
    {
        var folder = TempFolder.Create("cluster-prewarm");
        var registry = await RegistryProcess.StartAsync();
        var api = await FakeApiServer.StartAsync();
        return new ClusterPrewarmScenario(folder, registry, api, new OciImageBuilder(seed));
    }

    public AgentProcess Agent(string node) => _agents[node];

    /// <summary>Adds the Node (with <paramref name="labels"/>, <c>key=value</c>) and starts its agent; returns once the agent has listed the ImagePrewarms.</summary>
    public async Task<AgentProcess> StartNodeAsync(string node, params string[] labels)
    {
        Api.Apply(KubernetesObjects.Node(node, labels: labels));
        var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Namespace, Registry.BaseUri), "--kubeconfig", Kubeconfig, "--node-name", node]);
        _agents[node] = agent;
        await WaitUntilAsync(() => LogLines(node, "Listed imageprewarms") > 0, $"{node}'s agent listed the ImagePrewarms");
        return agent;
    }

    public async Task<BuiltImage> PushImageAsync(string repository, IReadOnlyList<long> layerSizes, string tag = "1")
    {
        var image = await Builder.BuildAsync(repository, tag, layerSizes);
        await OciPusher.For(Registry).PushAsync(image);
        return image;
    }

    /// <summary>Runs the real <c>nodecache</c> CLI against the fake API.</summary>
    public Task<ToolRun> CliAsync(params string[] arguments) => NodeCacheCli.RunAsync([.. arguments, "--kubeconfig", Kubeconfig], TimeSpan.FromSeconds(60));

    public bool IsCached(string node, Digest digest) => File.Exists(Path.Combine(_agents[node].CacheDir, "blobs", "sha256", digest.Hex));

    /// <summary>The manifest, config and every layer of <paramref name="image"/> are in <paramref name="node"/>'s cache.</summary>
    public bool IsCached(string node, BuiltImage image) => IsCached(node, image.ManifestDigest) && image.Blobs.All(b => IsCached(node, b.Digest));

    /// <summary>No blob of <paramref name="image"/> is in <paramref name="node"/>'s cache.</summary>
    public bool HasNone(string node, BuiltImage image) => !IsCached(node, image.ManifestDigest) && image.Blobs.All(b => !IsCached(node, b.Digest));

    /// <summary>Whether <paramref name="node"/>'s agent keeps <paramref name="digest"/> pinned, as its pin file on disk says.</summary>
    public bool IsPinned(string node, Digest digest)
    {
        var file = Path.Combine(_agents[node].CacheDir, Store.Eviction.Pins.FileName);
        return File.Exists(file) && File.ReadAllText(file).Contains(digest.ToString(), StringComparison.Ordinal);
    }

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

    /// <summary><paramref name="node"/>'s entry in the ImagePrewarm's status, as the API holds it now.</summary>
    public JsonObject? NodeStatus(string prewarm, string node) =>
        Api.Get("imageprewarms", null, prewarm)?["status"]?["nodes"]?[node] as JsonObject;

    public string? Phase(string prewarm, string node) => NodeStatus(prewarm, node)?["phase"]?.GetValue<string>();

    public Task WaitForPhaseAsync(string prewarm, string node, string phase) =>
        WaitUntilAsync(() => Phase(prewarm, node) == phase, $"{node} reports {phase} for {prewarm} (now {Phase(prewarm, node) ?? "nothing"})");

    public int LogLines(string node, string text) =>
        _agents.TryGetValue(node, out var agent) ? agent.Output.Text().Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal)) : 0;

    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting until {what}\n{string.Join('\n', Api.Requests().TakeLast(20))}\n{string.Join('\n', _agents.Values.Select(a => a.LogTail(30)))}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values)
        {
            await agent.DisposeAsync();
        }
        await Api.DisposeAsync();
        await Registry.DisposeAsync();
        Builder.Dispose();
        _folder.Dispose();
    }
}
