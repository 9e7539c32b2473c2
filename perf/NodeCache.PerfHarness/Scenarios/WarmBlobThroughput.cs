using NodeCache.PerfHarness.Measurement;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Report;
using NodeCache.PerfHarness.Workload;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Scenarios;

/// <summary>
/// Blobs every cache already holds, read as fast as the clients can: one big blob, and many 4 MiB blobs (a layer-sized
/// request mix), with 1 and 8 concurrent clients. nginx serving the files with sendfile is the ceiling.
/// </summary>
internal static class WarmBlobThroughput
{
    public const string Name = "warm";
    public const string Metric = "throughput";
    public const string CpuMetric = "server CPU per GiB";

    private static readonly int[] ClientCounts = [1, 8];

    public static async Task<ScenarioResult> RunAsync(Testbed bed, CancellationToken cancellationToken)
    {
        var settings = bed.Settings;
        var content = bed.Content;
        var big = content.BigBlob ?? throw new InvalidOperationException("the warm blobs were not pushed");
        IReadOnlyList<Peer> peers = [bed.AgentPeer, bed.NginxStaticPeer, bed.NginxProxyCachePeer, bed.RegistryProxyPeer, bed.UpstreamPeer];
        var result = new ScenarioResult(Name, $"Warm blob throughput (HttpClient streaming to a discarding sink on the same 2 cores, runs of ≥ {settings.WarmCellDuration.TotalSeconds:F0} s; server CPU is user + system time of the server's processes)", [.. peers.Select(p => p.Name)]);

        await WarmUpAsync(bed, [big, .. content.SmallBlobs], cancellationToken);

        var blobSets = new (string Label, IReadOnlyList<BlobFile> Blobs)[]
        {
            ($"{UpstreamContent.Mebibytes(big.Size)} MiB blob", [big]),
            ($"{content.SmallBlobs.Count} × {UpstreamContent.Mebibytes(HarnessSettings.SmallBlobSize)} MiB blobs", content.SmallBlobs),
        };
        var cases = blobSets.SelectMany(set => ClientCounts.Select(clients => (set.Label, set.Blobs, Clients: clients))).ToArray();
        for (var repetition = 0; repetition < settings.Repetitions; repetition++)
        {
            for (var c = 0; c < cases.Length; c++)
            {
                var (label, blobs, clients) = cases[c];
                var @case = CaseName(label, clients);
                foreach (var peer in Rotation.For(peers, repetition + c))
                {
                    var before = await UpstreamTraffic.OfBlobAsync(bed.Upstream, null, cancellationToken);
                    var cpuBefore = ProcessCpu.Of(peer.Pid);
                    var run = await DownloadLoad.RunAsync(
                        bed.Client, [.. blobs.Select(b => (peer.Blob(UpstreamContent.BlobRepository, b.Digest), b.Size))], clients,
                        settings.WarmCellDuration, HarnessSettings.WarmCellMaxPasses, cancellationToken);
                    var cpu = ProcessCpu.Of(peer.Pid) - cpuBefore;
                    var upstream = (await UpstreamTraffic.OfBlobAsync(bed.Upstream, null, cancellationToken)).Since(before);
                    var cpuPerGibibyte = cpu.TotalSeconds / (run.Bytes / 1073741824.0);
                    result.Add(@case, peer.Name, Metric, "MiB/s", run.MebibytesPerSecond);
                    result.Add(@case, peer.Name, CpuMetric, "CPU s", cpuPerGibibyte);
                    bed.Progress($"warm {@case}, {peer.Name}: {run.MebibytesPerSecond:F0} MiB/s ({run.Requests} GETs in {run.Elapsed.TotalSeconds:F1} s), {cpuPerGibibyte:F2} CPU s/GiB");
                    if (peer.Name != Peer.Upstream && upstream.Gets > 0)
                    {
                        result.Note($"{peer.Name} fetched {upstream.Gets} blobs from upstream during the warm run \"{@case}\" (repetition {repetition + 1}): it did not serve them all from its cache.");
                    }
                }
            }
        }
        foreach (var (label, _, clients) in cases)
        {
            result.AddRatio(CaseName(label, clients), Metric, Peer.Agent, Peer.NginxStatic);
            result.AddRatio(CaseName(label, clients), Metric, Peer.Agent, Peer.NginxProxyCache);
            result.AddRatio(CaseName(label, clients), CpuMetric, Peer.Agent, Peer.NginxStatic);
        }
        return result;
    }

    private static string CaseName(string label, int clients) => $"{label}, {clients} client{(clients == 1 ? "" : "s")}";

    /// <summary>One GET of every blob through each cache fills it; then the upstream must go quiet (the registry proxy stores in the background).</summary>
    private static async Task WarmUpAsync(Testbed bed, IReadOnlyList<BlobFile> blobs, CancellationToken cancellationToken)
    {
        foreach (var cache in bed.Caches)
        {
            foreach (var blob in blobs)
            {
                await bed.Client.DownloadAsync(cache.Blob(UpstreamContent.BlobRepository, blob.Digest), blob.Size, cancellationToken);
            }
            foreach (var blob in blobs)
            {
                await bed.WaitStoredAsync(cache, blob.Digest, cancellationToken);
            }
        }
        await UpstreamTraffic.SettledAsync(bed.Upstream, null, cancellationToken);
        // The agent's high-water mark here tells filling apart from serving when the memory table shows warm raised it.
        var memory = ProcessMemory.Of(bed.Agent.Pid);
        bed.Progress($"warm: every cache holds the warm blobs; agent peak RSS {memory.PeakBytes / 1048576.0:F0} MiB");
    }
}
