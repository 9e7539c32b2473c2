using NodeCache.PerfHarness.Measurement;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Report;
using NodeCache.PerfHarness.Workload;

namespace NodeCache.PerfHarness.Scenarios;

/// <summary>
/// One client asks each cache for a blob none of them holds: time to the last byte against the same download straight
/// from the upstream, and what each cache pulled from the upstream for it. Each repetition has a blob of its own.
/// </summary>
internal static class ColdFill
{
    public const string Name = "cold";
    public const string Time = "time to last byte";
    public const string FirstByte = "time to first byte";
    public const string LastByteWait = "last byte after the rest";
    public const string UpstreamGets = "upstream GETs";
    public const string UpstreamBytes = "upstream bytes / blob size";

    public static async Task<ScenarioResult> RunAsync(Testbed bed, CancellationToken cancellationToken)
    {
        var settings = bed.Settings;
        IReadOnlyList<Peer> peers = [bed.UpstreamPeer, .. bed.Caches];
        var @case = $"{UpstreamContent.Mebibytes(settings.ColdBlobSize)} MiB blob, 1 client";
        var result = new ScenarioResult(Name, "Cold fill (one client, a blob no cache holds; upstream traffic from the upstream registry's log)", [.. peers.Select(p => p.Name)]);
        result.Note("The agent sends the last byte only once the digest is verified and the file is in its place in the cache (the flush to disk and the index record follow): \"last byte after the rest\" is that wait.");
        for (var repetition = 0; repetition < settings.Repetitions; repetition++)
        {
            var blob = bed.Content.ColdBlobs[repetition];
            foreach (var peer in Rotation.For(peers, repetition))
            {
                var before = await UpstreamTraffic.SettledAsync(bed.Upstream, blob.Digest, cancellationToken);
                var timing = await bed.Client.DownloadTimedAsync(peer.Blob(UpstreamContent.BlobRepository, blob.Digest), blob.Size, cancellationToken);
                var elapsed = timing.LastByte;
                var pulled = (await bed.SettleAfterMissAsync(peer, blob.Digest, cancellationToken)).Since(before);
                result.Add(@case, peer.Name, Time, "s", elapsed.TotalSeconds);
                result.Add(@case, peer.Name, FirstByte, "s", timing.FirstByte.TotalSeconds);
                result.Add(@case, peer.Name, LastByteWait, "s", timing.LastByteWait.TotalSeconds);
                result.Add(@case, peer.Name, UpstreamGets, "GETs", pulled.Gets);
                result.Add(@case, peer.Name, UpstreamBytes, "×", (double)pulled.Bytes / blob.Size);
                bed.Progress($"cold {@case}, {peer.Name}: {elapsed.TotalSeconds:F2} s (first byte {timing.FirstByte.TotalSeconds:F3} s, last byte {timing.LastByteWait.TotalSeconds:F3} s after the rest), upstream {pulled.Gets} GETs, {pulled.Bytes / (double)blob.Size:F2}× the blob");
            }
        }
        foreach (var cache in bed.Caches)
        {
            result.AddRatio(@case, Time, cache.Name, Peer.Upstream);
        }
        return result;
    }
}
