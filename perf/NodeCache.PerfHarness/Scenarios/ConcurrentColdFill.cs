using NodeCache.PerfHarness.Measurement;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Report;
using NodeCache.PerfHarness.Workload;

namespace NodeCache.PerfHarness.Scenarios;

/// <summary>
/// A stampede: 50 clients released together on one blob no cache holds, as when a deployment's pods start on a node at
/// once. Counts the upstream GETs each cache made and the time until the last client had its last byte, against one
/// direct download of the blob, and against the same 50 clients once the blob is cached (the cost of delivering 50
/// copies on this machine, which no cache can go below).
/// </summary>
internal static class ConcurrentColdFill
{
    public const string Name = "stampede";
    public const string Time = "total time";
    public const string UpstreamGets = "upstream GETs";
    public const string UpstreamBytes = "upstream bytes / blob size";
    public const string DirectCase = "1 client, direct from upstream";

    public static async Task<ScenarioResult> RunAsync(Testbed bed, CancellationToken cancellationToken)
    {
        var settings = bed.Settings;
        var clients = HarnessSettings.StampedeClients;
        var coldCase = $"{clients} clients, cold";
        var warmCase = $"{clients} clients, warm";
        var result = new ScenarioResult(
            Name,
            $"{clients} concurrent requests for one {UpstreamContent.Mebibytes(HarnessSettings.StampedeBlobSize)} MiB blob",
            [Peer.Upstream, .. bed.Caches.Select(c => c.Name)]);
        result.Note($"The {clients} clients run on the same cores as the caches: delivering {clients} copies takes far longer than one download whatever the cache does, "
            + "so \"cold / warm\" (the same clients once the blob is cached) is the ratio that isolates what the stampede itself costs.");
        for (var repetition = 0; repetition < settings.Repetitions; repetition++)
        {
            var blob = bed.Content.StampedeBlobs[repetition];
            var direct = await DownloadLoad.TimeToLastByteAsync(bed.Client, bed.UpstreamPeer.Blob(UpstreamContent.BlobRepository, blob.Digest), blob.Size, cancellationToken);
            result.Add(DirectCase, Peer.Upstream, Time, "s", direct.TotalSeconds);
            bed.Progress($"stampede: one direct download {direct.TotalSeconds:F2} s");
            foreach (var cache in Rotation.For(bed.Caches, repetition))
            {
                var uri = cache.Blob(UpstreamContent.BlobRepository, blob.Digest);
                var before = await UpstreamTraffic.SettledAsync(bed.Upstream, blob.Digest, cancellationToken);
                var cold = await DownloadLoad.StampedeAsync(bed.Client, uri, blob.Size, clients, cancellationToken);
                var pulled = (await bed.SettleAfterMissAsync(cache, blob.Digest, cancellationToken)).Since(before);
                var warm = await DownloadLoad.StampedeAsync(bed.Client, uri, blob.Size, clients, cancellationToken);
                result.Add(coldCase, cache.Name, Time, "s", cold.TotalSeconds);
                result.Add(coldCase, cache.Name, UpstreamGets, "GETs", pulled.Gets);
                result.Add(coldCase, cache.Name, UpstreamBytes, "×", (double)pulled.Bytes / blob.Size);
                result.Add(warmCase, cache.Name, Time, "s", warm.TotalSeconds);
                bed.Progress($"stampede {cache.Name}: cold {cold.TotalSeconds:F2} s with {pulled.Gets} upstream GETs ({pulled.Bytes / (double)blob.Size:F2}× the blob), warm {warm.TotalSeconds:F2} s");
            }
        }
        foreach (var cache in bed.Caches)
        {
            result.AddRatio(coldCase, Time, cache.Name, DirectCase, Time, Peer.Upstream, $"{cache.Name} / one direct download");
            result.AddRatio(coldCase, Time, cache.Name, warmCase, Time, cache.Name, $"{cache.Name} cold / warm");
        }
        return result;
    }
}
