using System.Diagnostics;

namespace NodeCache.PerfHarness.Measurement;

/// <summary>What a bounded download load moved, and in how long.</summary>
internal readonly record struct Throughput(long Bytes, int Requests, TimeSpan Elapsed)
{
    public double MebibytesPerSecond => Bytes / 1048576.0 / Elapsed.TotalSeconds;
}

/// <summary>
/// A number of clients, each downloading a list of blobs in whole passes, until a minimum time or a pass limit is
/// reached: bounded in count and in time, and every client ends on a pass boundary so each blob is read equally often.
/// </summary>
internal static class DownloadLoad
{
    /// <param name="blobs">Each client starts at its own offset in the list, so concurrent clients do not all ask for the same blob at once.</param>
    public static async Task<Throughput> RunAsync(
        BlobClient client,
        IReadOnlyList<(Uri Uri, long Size)> blobs,
        int clients,
        TimeSpan minimumDuration,
        int maximumPasses,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            long bytes = 0;
            var requests = 0;
            var start = c * blobs.Count / clients;
            for (var pass = 0; pass < maximumPasses && (pass == 0 || clock.Elapsed < minimumDuration); pass++)
            {
                for (var i = 0; i < blobs.Count; i++)
                {
                    var (uri, size) = blobs[(start + i) % blobs.Count];
                    bytes += await client.DownloadAsync(uri, size, cancellationToken);
                    requests++;
                }
            }
            return (Bytes: bytes, Requests: requests);
        }, cancellationToken)));
        clock.Stop();
        return new Throughput(results.Sum(r => r.Bytes), results.Sum(r => r.Requests), clock.Elapsed);
    }

    /// <summary>
    /// <paramref name="clients"/> GETs of one blob released together (after every client is ready to send): the time from
    /// the release to the last client's last byte.
    /// </summary>
    public static async Task<TimeSpan> StampedeAsync(BlobClient client, Uri uri, long size, int clients, CancellationToken cancellationToken)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var downloads = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            await client.DownloadAsync(uri, size, cancellationToken);
        }, cancellationToken)).ToArray();
        var clock = Stopwatch.StartNew();
        start.SetResult();
        await Task.WhenAll(downloads);
        return clock.Elapsed;
    }

    /// <summary>One GET from first byte sent to last byte received.</summary>
    public static async Task<TimeSpan> TimeToLastByteAsync(BlobClient client, Uri uri, long size, CancellationToken cancellationToken) =>
        (await client.DownloadTimedAsync(uri, size, cancellationToken)).LastByte;
}
