using System.Diagnostics;
using System.Globalization;
using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Oci;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>
/// 1,000 concurrent connections for 60 s against the real agent, mixing hits, misses that fill (the cache is kept far
/// smaller than the image, so eviction turns hits back into misses all along) and misses the upstream does not know.
/// No request may fail, and the agent's sockets and open files must come back to their idle count and its memory to its
/// warmed-up level.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class LoadTests(FaultTable table, ITestOutputHelper output)
{
    private const int Connections = 1000;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(15);

    // Sockets the agent may hold beyond its idle count: pooled upstream connections (up to one per fill running at the peak).
    private const int SocketSlack = 64;

    // Files the agent may hold beyond its idle count: a new index log segment, fills still closing.
    private const int FileSlack = 16;

    [Fact]
    public async Task A_thousand_connections_mixing_hits_and_misses_for_a_minute_see_no_errors_and_leave_no_connections_or_memory_behind()
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
        // Connections the clients closed and pooled upstream connections take a moment to go; wait for them, within a bound.
        var settle = Stopwatch.StartNew();
        var after = Snapshot(scenario.Agent.Pid);
        while ((after.Sockets > atStart.Sockets + SocketSlack || after.Files > atStart.Files + FileSlack) && settle.Elapsed < SettleLimit)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            after = Snapshot(scenario.Agent.Pid);
        }
        var evictions = (await scenario.MetricsAsync(cancellationToken)).Value("nodecache_evictions_total", AgentMetrics.Labels());

        table.Record(output, new FaultRow(
            $"load: {Connections:N0} concurrent connections for {Duration.TotalSeconds:F0} s, hits + fills + unknown blobs, 1 MiB cache evicting",
            "no errors; sockets and open files back to where they were; memory back to its warmed-up level",
            $"{run.Requests:N0} requests ({run.Hits:N0} whole blobs, {run.NotFound:N0} 404 for unknown), {run.Errors} errors; {evictions} evictions; " +
            $"fds {atStart.Fds} idle at start ({atStart.Sockets} sockets, {atStart.Files} files), {before.Fds} after a 5 s warm-up, {after.Fds} after the run ({after.Sockets} sockets, {after.Files} files); " +
            $"RSS {atStart.RssBytes >> 20} MiB at start, {before.RssBytes >> 20} after warm-up, {after.RssBytes >> 20} after",
            run.Errors == 0 ? "none" : $"{run.Errors} failed requests"));
        Assert.True(run.Errors == 0, $"{run.Errors} errors, first: {run.FirstError}");
        Assert.True(run.Hits > Connections, $"only {run.Hits} blobs served");
        Assert.True(evictions > 0, "the cache never evicted: the run did not mix misses in");
        Assert.True(after.Sockets <= atStart.Sockets + SocketSlack, $"sockets grew from {atStart.Sockets} to {after.Sockets}");
        Assert.True(after.Files <= atStart.Files + FileSlack, $"open files grew from {atStart.Files} to {after.Files}");
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

    private static (int Fds, int Sockets, int Files, long RssBytes) Snapshot(int pid)
    {
        var targets = Directory.GetFiles($"/proc/{pid}/fd").Select(LinkTarget).ToList();
        var rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (targets.Count, targets.Count(t => t.StartsWith("socket:", StringComparison.Ordinal)), targets.Count(t => t.StartsWith('/') && !t.StartsWith("/memfd", StringComparison.Ordinal)),
            long.Parse(rss.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024);
    }

    private static string LinkTarget(string fd)
    {
        try
        {
            return new FileInfo(fd).LinkTarget ?? "";
        }
        catch (IOException)
        {
            return "";
        }
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
