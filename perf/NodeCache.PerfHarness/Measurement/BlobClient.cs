using System.Net;

namespace NodeCache.PerfHarness.Measurement;

/// <summary>
/// Downloads blobs the way a puller reads them, streaming each body into a discarding buffer: the client keeps no
/// bytes and does no hashing, so it spends as little as it can of the cores the servers share with it.
/// </summary>
internal sealed class BlobClient : IDisposable
{
    // 256 KiB reads: smaller reads cost the fastest peer throughput in read calls, larger ones gained nothing
    // (perf/RESULTS.md#harness-client-read-size).
    private const int ReadSize = 256 * 1024;

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    })
    {
        // Each caller bounds its own requests with a token.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>GETs <paramref name="uri"/> to its end; throws unless it answers 200 with exactly <paramref name="expectedSize"/> bytes.</summary>
    public async Task<long> DownloadAsync(Uri uri, long expectedSize, CancellationToken cancellationToken)
    {
        await DownloadTimedAsync(uri, expectedSize, cancellationToken);
        return expectedSize;
    }

    /// <summary>
    /// As <see cref="DownloadAsync"/>, with the moments the first byte, every byte but the last, and the last byte
    /// arrived. A cache that holds back the last byte until the digest is verified shows that wait between the two last.
    /// </summary>
    public async Task<DownloadTiming> DownloadTimedAsync(Uri uri, long expectedSize, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan? firstByte = null, allButLast = null;
        using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"GET {uri} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}", null, response.StatusCode);
        }
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ReadSize);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, ReadSize), cancellationToken)) > 0)
            {
                firstByte ??= clock.Elapsed;
                total += read;
                if (total >= expectedSize - 1)
                {
                    allButLast ??= clock.Elapsed;
                }
            }
            var lastByte = clock.Elapsed;
            if (total != expectedSize)
            {
                throw new InvalidDataException($"GET {uri} sent {total} bytes, not {expectedSize}");
            }
            return new DownloadTiming(firstByte ?? lastByte, allButLast ?? lastByte, lastByte);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>When the bytes of one download arrived, from the moment the request was sent.</summary>
internal readonly record struct DownloadTiming(TimeSpan FirstByte, TimeSpan AllButLastByte, TimeSpan LastByte)
{
    /// <summary>How long the last byte came after all the others.</summary>
    public TimeSpan LastByteWait => LastByte - AllButLastByte;
}
