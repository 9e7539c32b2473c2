using NodeCache.PerfHarness.Measurement;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Report;
using NodeCache.PerfHarness.Workload;

namespace NodeCache.PerfHarness.Scenarios;

/// <summary>
/// Manifest GETs by tag and by digest under 64 connections of wrk: what every pull asks first, and what a node's image
/// churn hammers. The upstream direct is in the table to show what a cache saves it.
/// </summary>
internal static class ManifestLoad
{
    public const string Name = "manifests";
    public const string Throughput = "throughput";
    public const string P50 = "p50";
    public const string P99 = "p99";

    /// <summary>What containerd sends for an OCI image, with the wildcard that lets any manifest through.</summary>
    private const string Accept = "application/vnd.oci.image.manifest.v1+json, */*";

    public static async Task<ScenarioResult> RunAsync(Testbed bed, CancellationToken cancellationToken)
    {
        var settings = bed.Settings;
        var image = bed.Content.ManifestImage ?? throw new InvalidOperationException("the manifest image was not pushed");
        IReadOnlyList<Peer> peers = [bed.AgentPeer, bed.NginxProxyCachePeer, bed.RegistryProxyPeer, bed.UpstreamPeer];
        var result = new ScenarioResult(Name, $"Manifests under load (wrk, {HarnessSettings.WrkConnections} connections, {settings.WrkDuration.TotalSeconds:F0} s per run)", [.. peers.Select(p => p.Name)]);
        result.Note("The upstream registry logs every request at info (its fixture counts requests from that log), and this process captures those lines: "
            + "the upstream's figures, and the registry proxy's by tag (each asks the upstream), include that cost.");
        var cases = new (string Case, string Reference)[]
        {
            ("by tag", UpstreamContent.ManifestTag),
            ("by digest", image.ManifestDigest.ToString()),
        };

        // The first requests fill the caches and the agent's JIT; none of that is the steady state being measured.
        foreach (var peer in peers)
        {
            foreach (var (_, reference) in cases)
            {
                await WrkRun.RunAsync(peer.Manifest(UpstreamContent.ManifestRepository, reference), Accept, HarnessSettings.WrkConnections, HarnessSettings.WrkWarmup, cancellationToken);
            }
        }

        for (var repetition = 0; repetition < settings.Repetitions; repetition++)
        {
            for (var c = 0; c < cases.Length; c++)
            {
                var (@case, reference) = cases[c];
                foreach (var peer in Rotation.For(peers, repetition + c))
                {
                    var run = await WrkRun.RunAsync(peer.Manifest(UpstreamContent.ManifestRepository, reference), Accept, HarnessSettings.WrkConnections, settings.WrkDuration, cancellationToken);
                    result.Add(@case, peer.Name, Throughput, "req/s", run.RequestsPerSecond);
                    result.Add(@case, peer.Name, P50, "ms", run.P50.TotalMilliseconds);
                    result.Add(@case, peer.Name, P99, "ms", run.P99.TotalMilliseconds);
                    bed.Progress($"manifests {@case}, {peer.Name}: {run.RequestsPerSecond:F0} req/s, p50 {run.P50.TotalMilliseconds:F2} ms, p99 {run.P99.TotalMilliseconds:F2} ms");
                    if (!run.Clean)
                    {
                        result.Note($"{peer.Name} {@case} (repetition {repetition + 1}): {run.Non2xx} non-2xx answers and {run.SocketErrors} socket errors in {run.Requests} requests.");
                    }
                }
            }
        }
        foreach (var (@case, _) in cases)
        {
            result.AddRatio(@case, Throughput, Peer.Agent, Peer.RegistryProxy);
            result.AddRatio(@case, Throughput, Peer.Agent, Peer.NginxProxyCache);
            result.AddRatio(@case, P99, Peer.Agent, Peer.NginxProxyCache);
        }
        return result;
    }
}
