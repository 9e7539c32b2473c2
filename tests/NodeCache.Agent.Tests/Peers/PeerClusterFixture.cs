using System.Diagnostics;
using System.Security.Cryptography;
using NodeCache.Oci;
using NodeCache.Peers;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>The tests that share the five-node cluster: one at a time, and alone on the machine's cores, since they measure waits.</summary>
[CollectionDefinition(PeerClusterFixture.Collection, DisableParallelization = true)]
public sealed class PeerClusterCollection : ICollectionFixture<PeerClusterFixture>;

/// <summary>
/// Five nodes sharing blobs, for the tests of one collection (they run one after another): a simulated cluster whose agents
/// find each other through the DaemonSet's EndpointSlices, node 1 pulling with real containerd through the CRI and the
/// others as containerd does over HTTP, and a sixth machine, without an agent, for a node that joins. Each test pushes
/// an image of its own, so every rollout starts cold, and starts from a settled cluster (<see cref="SettleAsync"/>).
/// </summary>
public sealed class PeerClusterFixture : IAsyncLifetime
{
    public const string Collection = "simulated cluster";

    /// <summary>10 MB/s: a node receives the test image in about a second and a half, long enough to strike mid-way.</summary>
    public static readonly LinkShape NodeLink = LinkShape.Megabits(80);

    public static readonly LinkShape HarborLink = LinkShape.Megabits(160);

    /// <summary>Longer than any test's rollouts take on a loaded machine; a hang fails the test instead of the run.</summary>
    public static readonly TimeSpan TestLimit = TimeSpan.FromMinutes(3);

    private static int _images;
    private readonly OciImageBuilder _builder = new(seed: 1414);
    private SimulatedCluster? _cluster;
    private bool _disturbed;

    public SimulatedCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster has not started");

    /// <summary>The five members.</summary>
    public IReadOnlyList<ClusterNode> Nodes => [.. Cluster.Nodes.Take(5)];

    /// <summary>A machine with no agent yet: the node that joins.</summary>
    public ClusterNode Newcomer => Cluster.Nodes[5];

    public async Task InitializeAsync()
    {
        // The probe turns a dead agent's endpoint not ready within a second; the agents must not wait for that.
        _cluster = await SimulatedCluster.StartAsync(new ClusterOptions
        {
            NodeLink = NodeLink,
            HarborLink = HarborLink,
            ProbePeriod = TimeSpan.FromMilliseconds(500),
            ProbeFailureThreshold = 2,
        });
        await _cluster.AddNodesAsync(6, withContainerd: 1);
        await _cluster.StartAgentsAsync(Nodes, PeeringMode.Service);
    }

    /// <summary>
    /// A test that made agents fail each other calls this: the agents remember a failed peer for up to a minute and route
    /// around it, which would change the next test's owners. The next <see cref="SettleAsync"/> restarts them.
    /// </summary>
    public void Disturbed() => _disturbed = true;

    /// <summary>
    /// Returns once every member's agent sees the five members ready and avoids none, restarting the agents first (with
    /// their caches) when the last test disturbed them: each test starts where a fresh cluster would.
    /// </summary>
    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        if (_disturbed)
        {
            await Task.WhenAll(Nodes.Select(n => n.RestartAgentAsync(cancellationToken)));
            _disturbed = false;
        }
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var views = new List<string>();
            foreach (var node in Nodes)
            {
                var metrics = await AgentMetrics.ReadAsync(node.Http, ClusterNode.MirrorUrl, cancellationToken);
                var ready = metrics.Value(PeerMetrics.Members, AgentMetrics.Labels(("state", "ready")));
                var avoided = metrics.Value(PeerMetrics.Members, AgentMetrics.Labels(("state", "avoided")));
                if (ready != Nodes.Count || avoided != 0)
                {
                    views.Add($"{node}: {ready} ready, {avoided} avoided");
                }
            }
            if (views.Count == 0)
            {
                return;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"the agents did not all see {Nodes.Count} ready members within a minute:\n{string.Join('\n', views)}");
            }
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>A new image in Harbor, under a repository of its own: by default four layers, about 12 MiB.</summary>
    public async Task<BuiltImage> PushImageAsync(string name, string tag = "1", IReadOnlyList<long>? layers = null)
    {
        var image = await _builder.BuildAsync($"peers/{name}-{Interlocked.Increment(ref _images)}", tag,
            layers ?? [5 * OciImageBuilder.MiB, 4 * OciImageBuilder.MiB, 2 * OciImageBuilder.MiB, 1 * OciImageBuilder.MiB]);
        await Cluster.PushAsync(image);
        return image;
    }

    /// <summary>The members in the order every agent ranks them for <paramref name="digest"/> (rendezvous hashing of their peer URLs): the owner first.</summary>
    public IReadOnlyList<ClusterNode> Ranked(Digest digest) =>
        [.. Nodes.OrderByDescending(n => PeerOwnership.Score(PeerMember.CanonicalUrl(n.PeerUrl.ToString()), digest))];

    /// <summary>Every member's agent holds every blob of the image, and each cached file hashes to its digest: nothing wrong was kept.</summary>
    public static void AssertHeldIntact(IEnumerable<ClusterNode> nodes, BuiltImage image)
    {
        foreach (var node in nodes)
        {
            foreach (var blob in image.Blobs)
            {
                Assert.True(node.Holds(blob.Digest), $"{node} does not hold {blob.Digest}");
                using var file = File.OpenRead(Path.Combine(node.Agent!.CacheDir, "blobs", "sha256", blob.Digest.Hex));
                Assert.Equal(blob.Digest, Digest.FromHash(SHA256.HashData(file)));
            }
        }
    }

    /// <summary>Every node completed, and each HTTP node took everything from its own agent (it never had to go to Harbor itself).</summary>
    public static void AssertEveryNodeCompletedThroughItsAgent(RolloutResult rollout, ClusterNode? except = null)
    {
        Assert.True(rollout.Completed == rollout.Nodes.Count, string.Join('\n', rollout.Errors));
        foreach (var outcome in rollout.Nodes.Where(n => n.Node != except && n.Pull?.Http is not null))
        {
            Assert.Equal(0, outcome.Pull!.Http!.FromOtherHosts(ClusterNode.MirrorUrl));
        }
    }

    /// <summary>How many requests Harbor has logged so far: a mark to read the requests of what follows.</summary>
    public async Task<int> HarborMarkAsync() => (await Cluster.Harbor.RequestsAsync()).Count;

    /// <summary>The requests Harbor logged since <paramref name="mark"/>.</summary>
    public async Task<IReadOnlyList<RegistryRequest>> HarborRequestsSinceAsync(int mark) => [.. (await Cluster.Harbor.RequestsAsync()).Skip(mark)];

    /// <summary>The blob GETs Harbor answered for the agents (not for a node's own client that went to Harbor itself).</summary>
    public static IEnumerable<RegistryRequest> AgentBlobGets(IEnumerable<RegistryRequest> requests) =>
        requests.Where(r => r.Route == RegistryRoute.Blob && r.Method == "GET" && r.Succeeded && r.UserAgent != MirrorPull.UserAgent);

    /// <summary>
    /// No agent fetched a blob from Harbor from its first byte more than <paramref name="times"/> times: each further fetch
    /// was a Range request from the byte reached (a 206).
    /// </summary>
    public static void AssertBlobsFetchedWholeAtMost(IEnumerable<RegistryRequest> requests, int times)
    {
        var whole = AgentBlobGets(requests)
            .Where(r => r.Status == 200)
            .GroupBy(r => r.Reference)
            .Where(g => g.Count() > times)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(r => $"{r.RemoteAddress} {r.Written} bytes"))}")
            .ToList();
        Assert.True(whole.Count == 0, $"blobs Harbor sent whole more than {times} time(s):\n{string.Join('\n', whole)}");
    }

    /// <summary>The sum of a metric over the agents of <paramref name="nodes"/>, each read on its node's own loopback.</summary>
    public static async Task<double> SumMetricAsync(IEnumerable<ClusterNode> nodes, string name, params (string Name, string Value)[] labels)
    {
        double sum = 0;
        foreach (var node in nodes)
        {
            var metrics = await AgentMetrics.ReadAsync(node.Http, ClusterNode.MirrorUrl, CancellationToken.None);
            sum += metrics.Value(name, AgentMetrics.Labels(labels));
        }
        return sum;
    }

    /// <summary>
    /// Waits until the sum of a metric over <paramref name="nodes"/> is <paramref name="expected"/>, and fails with what it
    /// was if it stays otherwise: the exporter answers a scrape from its last one for 300 ms, so a read right after the
    /// events may not show them yet.
    /// </summary>
    public static async Task AssertMetricReachesAsync(IEnumerable<ClusterNode> nodes, string name, double expected, string what, params (string Name, string Value)[] labels)
    {
        var clock = Stopwatch.StartNew();
        double sum;
        while ((sum = await SumMetricAsync(nodes, name, labels)) != expected && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(200);
        }
        Assert.True(sum == expected, $"{what}: {name} is {sum}, not {expected}");
    }

    /// <summary>
    /// One blob GET through <paramref name="node"/>'s agent, as its containerd sends it: the time until the answer's headers
    /// and until its last byte, and the digest of what arrived.
    /// </summary>
    public static async Task<BlobRead> ReadBlobAsync(ClusterNode node, string repository, Digest digest, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Get,
            new Uri(ClusterNode.MirrorUrl, $"/v2/{repository}/blobs/{digest}?ns={SimulatedCluster.RegistryHost}"));
        using var response = await node.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var headers = clock.Elapsed;
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new BlobRead((int)response.StatusCode, headers, clock.Elapsed, Digest.Compute(body), body.Length);
    }

    /// <summary>A request to <paramref name="node"/>'s peer API, signed with the cluster's secret when <paramref name="proven"/>.</summary>
    public HttpRequestMessage PeerRequest(ClusterNode node, HttpMethod method, string pathAndQuery, bool proven, string? accept = null)
    {
        var request = new HttpRequestMessage(method, new Uri(node.PeerUrl, pathAndQuery));
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }
        if (proven)
        {
            // Signed as a member would sign it: the member asking is another node of the cluster.
            var asking = Nodes.First(n => n != node);
            var proof = new PeerProof(PeerSecret.Load(Cluster.TokenFile), TimeProvider.System);
            var (peer, at, mac) = proof.Sign(method.Method, request.RequestUri!.PathAndQuery, PeerMember.CanonicalUrl(asking.PeerUrl.ToString()));
            request.Headers.TryAddWithoutValidation(PeerProof.PeerHeader, peer);
            request.Headers.TryAddWithoutValidation(PeerProof.TimeHeader, at);
            request.Headers.TryAddWithoutValidation(PeerProof.ProofHeader, mac);
        }
        return request;
    }

    public async Task DisposeAsync()
    {
        _builder.Dispose();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>A blob read through a node's agent: the status, when its headers and its last byte came, and what it hashed to.</summary>
public sealed record BlobRead(int Status, TimeSpan Headers, TimeSpan Total, Digest Received, long Length);
