using System.Diagnostics;
using System.Globalization;
using System.Net;
using NodeCache.Agent.Tests.Mirror;
using NodeCache.Oci;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>
/// 1,000 concurrent connections for 60 s against the real agent, mixing hits, misses that fill (the cache is kept far
/// smaller than the image, so eviction turns hits back into misses all along) and misses the upstream does not know.
/// No request may fail, and the agent's file descriptors and resident memory must come back to where they were.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class LoadTests(FaultTable table, ITestOutputHelper output)
{
    private const int Connections = 1000;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_thousand_connections_mixing_hits_and_misses_for_a_minute_see_no_errors_and_leave_no_descriptors_or_memory_behind()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var cancellationToken = timeout.Token;
        var layerSizes = Enumerable.Repeat(64 * OciImageBuilder.KiB, 32).ToArray();
        // 32 × 64 KiB is about 2 MiB; a 1 MiB cache holds half of it at most, so fills and evictions go on for the whole run.
        await using var scenario = await MirrorScenario.StartAsync(
            "library/load", layerSizes, seed: 970, throughProxy: false, ["--cache-size", "1MiB", "--eviction-interval", "1s", "--log-level", "Warning"], null, cancellationToken);
        var digests = scenario.Image.Layers.Select(l => l.Digest).ToArray();
        var unknown = Digest.Compute("not in the registry"u8);
        var atStart = Snapshot(scenario.Agent.Pid);

        await RunAsync(scenario, digests, unknown, Warmup, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var before = Snapshot(scenario.Agent.Pid);

        var run = await RunAsync(scenario, digests, unknown, Duration, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var after = Snapshot(scenario.Agent.Pid);
        var evictions = (await scenario.MetricsAsync(cancellationToken)).Value("nodecache_evictions_total", AgentMetrics.Labels());

        table.Record(output, new FaultRow(
            $"load: {Connections:N0} concurrent connections for {Duration.TotalSeconds:F0} s, hits + fills + unknown blobs, 1 MiB cache evicting",
            "no errors; descriptors and memory back to where they were",
            $"{run.Requests:N0} requests ({run.Hits:N0} whole blobs, {run.NotFound:N0} 404 for unknown), {run.Errors} errors; {evictions} evictions; " +
            $"fds {atStart.Fds} idle at start, {before.Fds} after a 5 s warm-up, {after.Fds} after the run; RSS {atStart.RssBytes >> 20} at start, {before.RssBytes >> 20} after warm-up, {after.RssBytes >> 20} MiB after",
            run.Errors == 0 ? "none" : $"{run.Errors} failed requests"));
        Assert.True(run.Errors == 0, $"{run.Errors} errors, first: {run.FirstError}");
        Assert.True(run.Hits > Connections, $"only {run.Hits} blobs served");
        Assert.True(evictions > 0, "the cache never evicted: the run did not mix misses in");
        Assert.True(after.Fds <= before.Fds + 32, $"descriptors grew from {before.Fds} to {after.Fds}");
        Assert.True(after.RssBytes <= before.RssBytes + (64L << 20), $"resident memory grew from {before.RssBytes >> 20} to {after.RssBytes >> 20} MiB");
    }

    private static async Task<LoadRun> RunAsync(MirrorScenario scenario, Digest[] digests, Digest unknown, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Connections,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1),
        })
        { Timeout = TimeSpan.FromSeconds(60) };
        var run = new LoadRun();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Connections).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (clock.Elapsed < duration)
            {
                var missing = random.Next(20) == 0;
                var digest = missing ? unknown : digests[random.Next(digests.Length)];
                try
                {
                    var read = await BlobDownload.ReadAsync(http, scenario.BlobRequest(digest), cancellationToken);
                    if (missing ? read.Status == HttpStatusCode.NotFound : read.Complete && read.BodyDigest == digest)
                    {
                        run.Count(missing);
                    }
                    else
                    {
                        run.Fail(read.ToString());
                    }
                }
                catch (HttpRequestException e)
                {
                    run.Fail(e.Message);
                }
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        return run;
    }

    private static (int Fds, long RssBytes) Snapshot(int pid)
    {
        var fds = Directory.GetFiles($"/proc/{pid}/fd").Length;
        var rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (fds, long.Parse(rss.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024);
    }

    private sealed class LoadRun
    {
        private long _hits;
        private long _notFound;
        private long _errors;

        public long Requests => Hits + NotFound + Errors;

        public long Hits => Interlocked.Read(ref _hits);

        public long NotFound => Interlocked.Read(ref _notFound);

        public long Errors => Interlocked.Read(ref _errors);

        public string? FirstError { get; private set; }

        public void Count(bool missing) => Interlocked.Increment(ref missing ? ref _notFound : ref _hits);

        public void Fail(string what)
        {
            if (Interlocked.Increment(ref _errors) == 1)
            {
                FirstError = what;
            }
        }
    }
}
