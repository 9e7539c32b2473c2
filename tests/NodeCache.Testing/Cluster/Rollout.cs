using System.Diagnostics;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// A cold rollout: every node pulls the image at the same moment, as when a Deployment's pods land on all of them at
/// once. It ends when the last node holds the image (containerd committed it, or the HTTP client hashed every blob). A
/// fault may act while it runs (see <see cref="RolloutScene"/>) and may bring nodes of its own whose pulls count too.
/// Harbor's egress is what its log says it wrote for blob GETs meanwhile.
/// </summary>
public static class Rollout
{
    /// <summary>What acts during a rollout: it gets the scene and returns the pulls of nodes it added, if any.</summary>
    public delegate Task<IReadOnlyList<NodeOutcome>> During(RolloutScene scene, CancellationToken cancellationToken);

    public static async Task<RolloutResult> RunAsync(
        SimulatedCluster cluster, IReadOnlyList<ClusterNode> nodes, BuiltImage image, During? during = null, CancellationToken cancellationToken = default)
    {
        foreach (var node in nodes)
        {
            await node.ForgetAsync(image, cancellationToken);
        }
        var harborBefore = (await cluster.Harbor.RequestsAsync(cancellationToken)).Count;
        var atStart = nodes.ToDictionary(n => n, n => n.Machine.Traffic());
        var clock = Stopwatch.StartNew();
        var pulls = nodes.Select(node => Task.Run(() => PullAsync(node, image, clock, cancellationToken), cancellationToken)).ToList();
        var added = during is null
            ? Task.FromResult<IReadOnlyList<NodeOutcome>>([])
            : during(new RolloutScene(cluster, nodes, image, clock, atStart), cancellationToken);
        var outcomes = (await Task.WhenAll(pulls)).Concat(await added).ToList();
        var elapsed = clock.Elapsed;
        var served = (await cluster.Harbor.RequestsAsync(cancellationToken)).Skip(harborBefore)
            .Where(r => r.Route == RegistryRoute.Blob && r.Method == "GET" && r.Succeeded)
            .GroupBy(r => r.Reference!)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.Written), StringComparer.Ordinal);
        var perBlob = image.Blobs.Select(b => served.GetValueOrDefault(b.Digest.ToString()) / (double)b.Size).ToList();
        return new RolloutResult(outcomes, elapsed, served.Values.Sum(), image.Blobs.Sum(b => b.Size), perBlob.Min(), perBlob.Max());
    }

    /// <summary>One node's pull from the rollout's start: its end on the rollout's clock, or why it failed.</summary>
    public static async Task<NodeOutcome> PullAsync(ClusterNode node, BuiltImage image, Stopwatch clock, CancellationToken cancellationToken)
    {
        try
        {
            var pull = await node.PullAsync(image, cancellationToken);
            return new NodeOutcome(node, clock.Elapsed, pull, null);
        }
        catch (Exception e) when (e is PullFailedException or InvalidOperationException or HttpRequestException or IOException)
        {
            return new NodeOutcome(node, clock.Elapsed, null, e.Message.Split('\n')[0]);
        }
    }
}

/// <summary>A rollout under way, as a fault sees it: its cluster, nodes, image and clock, and each node's link counters at its start.</summary>
public sealed record RolloutScene(SimulatedCluster Cluster, IReadOnlyList<ClusterNode> Nodes, BuiltImage Image, Stopwatch Clock, IReadOnlyDictionary<ClusterNode, LinkTraffic> AtStart)
{
    /// <summary>The node whose link has sent the most since the rollout began: the peer serving the most, the owner of the biggest blob or a hop of its tree.</summary>
    public ClusterNode BusiestUploader() =>
        Nodes.MaxBy(n => n.Machine.Traffic().Since(AtStart[n]).FromMachine)!;

    /// <summary>Returns once the nodes together have received <paramref name="share"/> of what the rollout brings them, by their links' counters.</summary>
    public async Task WaitUntilThroughAsync(double share, CancellationToken cancellationToken)
    {
        var target = share * Nodes.Count * Image.Blobs.Sum(b => b.Size);
        while (Nodes.Sum(n => n.Machine.Traffic().Since(AtStart[n]).ToMachine) < target)
        {
            await Task.Delay(20, cancellationToken);
        }
    }
}

/// <summary>How one node's pull ended: when, on the rollout's clock, and the pull, or the error that ended it.</summary>
public sealed record NodeOutcome(ClusterNode Node, TimeSpan FinishedAt, NodePull? Pull, string? Error);

/// <summary>
/// Every node's outcome, the time until the last one finished, and the bytes Harbor sent for blobs meanwhile against the
/// image's; <paramref name="LeastServedBlob"/> and <paramref name="MostServedBlob"/> are what Harbor sent of one blob over
/// its size, for the blob it sent least and most of (1 and 1 when it sent each blob once).
/// </summary>
public sealed record RolloutResult(IReadOnlyList<NodeOutcome> Nodes, TimeSpan Elapsed, long HarborBytes, long ImageSize, double LeastServedBlob, double MostServedBlob)
{
    public int Completed => Nodes.Count(n => n.Pull is not null);

    /// <summary>Harbor's egress for the rollout over the image's config and layers: N without peering, 1 with it.</summary>
    public double HarborEgress => HarborBytes / (double)ImageSize;

    public IEnumerable<string> Errors => Nodes.Where(n => n.Error is not null).Select(n => $"{n.Node.Name}: {n.Error}");

    /// <summary>When the last node other than <paramref name="node"/> finished.</summary>
    public TimeSpan FinishedWithout(ClusterNode node) =>
        Nodes.Where(n => n.Node != node).Select(n => n.FinishedAt).DefaultIfEmpty().Max();
}
