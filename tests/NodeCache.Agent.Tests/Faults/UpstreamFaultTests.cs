using System.Diagnostics;
using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>
/// The real agent against the real registry behind a <see cref="FaultProxy"/> that misbehaves on purpose: whatever the
/// upstream does, a client never gets a complete body of wrong bytes, nothing partial is cached, and the agent recovers
/// once the upstream does.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class UpstreamFaultTests(FaultTable table, ITestOutputHelper output)
{
    private const long LayerSize = 2 * OciImageBuilder.MiB;

    [Fact]
    public async Task With_the_upstream_down_cached_blobs_are_served_and_a_miss_fails_fast_with_an_error()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/down", [LayerSize, LayerSize], seed: 901, throughProxy: true, cancellationToken);
        var cached = scenario.Image.Layers[0];
        var missing = scenario.Image.Layers[1];
        await scenario.WarmAsync(cached, cancellationToken);

        await scenario.Proxy!.GoDownAsync();
        var hit = await scenario.Download(cached.Digest, cancellationToken: cancellationToken).Completion;
        var misses = new List<(HttpStatusCode Status, TimeSpan Elapsed)>();
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await scenario.Http.SendAsync(scenario.BlobRequest(missing.Digest), cancellationToken);
            misses.Add((response.StatusCode, clock.Elapsed));
        }

        var slowest = misses.Max(m => m.Elapsed);
        table.Record(output, new FaultRow(
            "upstream down (connection refused)",
            "cached blob served whole; a miss answers an error within 100 ms so containerd tries its next host",
            $"hit: {Describe(hit, cached.Digest)}; 5 misses: {string.Join('/', misses.Select(m => (int)m.Status).Distinct())} in at most {slowest.TotalMilliseconds:F0} ms",
            hit.Complete && hit.BodyDigest == cached.Digest ? "none" : "the cached blob"));
        Assert.True(hit.Complete && hit.BodyDigest == cached.Digest, hit.ToString());
        Assert.All(misses, miss => Assert.True((int)miss.Status >= 400, $"{miss.Status}"));
        // A safety net, not a speed figure: the table carries the measured time.
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"a miss took {slowest}");
        Assert.False(scenario.IsCached(missing.Digest));
        Assert.False(scenario.Agent.HasExited);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, 2)]
    [InlineData(HttpStatusCode.ServiceUnavailable, 2)]
    public async Task A_passing_server_error_is_retried_and_the_blob_served_whole(HttpStatusCode status, int failures)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/flaky", [LayerSize], seed: 902 + (int)status, throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        scenario.Proxy!.FailBlobGets(status, failures);

        var read = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        var answers = scenario.Proxy.Requests().Where(r => r.IsBlobGet(layer.Digest)).Select(r => r.Status).ToList();
        table.Record(output, new FaultRow(
            $"upstream {(int)status} twice, then healthy",
            "retried with backoff; blob served whole and cached",
            $"upstream answered {string.Join(", ", answers)}; client: {Describe(read, layer.Digest)}; cached: {Cached(scenario, layer)}",
            read.Complete && read.BodyDigest == layer.Digest ? "none" : "the blob"));
        Assert.Equal([.. Enumerable.Repeat((int)status, failures), 200], answers);
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, read.ToString());
        Assert.True(scenario.IsCached(layer.Digest));
    }

    [Fact]
    public async Task A_lasting_server_error_is_answered_with_an_error_promptly_caches_nothing_and_heals()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/broken", [LayerSize], seed: 905, throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        scenario.Proxy!.FailBlobGets(HttpStatusCode.InternalServerError, 1000);

        var clock = Stopwatch.StartNew();
        using var failed = await scenario.Http.SendAsync(scenario.BlobRequest(layer.Digest), cancellationToken);
        var elapsed = clock.Elapsed;
        scenario.Proxy.FailBlobGets(HttpStatusCode.OK, 0);
        var healed = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        table.Record(output, new FaultRow(
            "upstream 500 on every try",
            "an error (5xx) after the retries, nothing cached; served once the upstream heals",
            $"{(int)failed.StatusCode} after {elapsed.TotalMilliseconds:F0} ms; after healing: {Describe(healed, layer.Digest)}",
            healed.Complete && healed.BodyDigest == layer.Digest ? "none" : "the blob"));
        Assert.True((int)failed.StatusCode >= 500, $"{failed.StatusCode}");
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        Assert.True(healed.Complete && healed.BodyDigest == layer.Digest, healed.ToString());
    }

    [Fact]
    public async Task Too_many_requests_with_retry_after_is_waited_out_and_the_blob_served_whole()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/limited", [LayerSize], seed: 906, throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        scenario.Proxy!.FailBlobGets(HttpStatusCode.TooManyRequests, 1, retryAfter: TimeSpan.FromSeconds(1));

        var clock = Stopwatch.StartNew();
        var read = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;
        var elapsed = clock.Elapsed;

        var answers = scenario.Proxy.Requests().Where(r => r.IsBlobGet(layer.Digest)).Select(r => r.Status).ToList();
        table.Record(output, new FaultRow(
            "upstream 429 with Retry-After: 1",
            "waits the second out, retries once, blob served whole",
            $"upstream answered {string.Join(", ", answers)}; client: {Describe(read, layer.Digest)} after {elapsed.TotalSeconds:F1} s",
            read.Complete && read.BodyDigest == layer.Digest ? "none" : "the blob"));
        Assert.Equal([429, 200], answers);
        Assert.True(elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {elapsed}, before Retry-After");
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, read.ToString());
    }

    [Theory]
    [InlineData(nameof(FaultMode.Truncate), "upstream without Range support resets the connection half way through a blob")]
    [InlineData(nameof(FaultMode.Corrupt), "upstream sends wrong bytes (one byte flipped, right length)")]
    [InlineData(nameof(FaultMode.ShortLength), "upstream sends a wrong Content-Length (4 KiB short, consistent body)")]
    public async Task A_faulty_upstream_body_breaks_the_transfer_caches_nothing_and_the_next_request_is_served_whole(string faultMode, string fault)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/faulty", [LayerSize], seed: 910 + (int)Enum.Parse<FaultMode>(faultMode), throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        scenario.Proxy!.Mode = Enum.Parse<FaultMode>(faultMode);
        scenario.Proxy.RangeSupported = false;

        var faulty = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;
        var cachedAfterFault = scenario.IsCached(layer.Digest);
        var tempAfterFault = scenario.TempFiles().Count;
        scenario.Proxy.Mode = FaultMode.Healthy;
        var healthy = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        var wrongBodyDelivered = faulty.Complete;
        table.Record(output, new FaultRow(
            fault,
            "client's transfer breaks (never a complete wrong body); nothing cached; next request fetched again and served whole",
            $"faulty: {Describe(faulty, layer.Digest)}; cached after: {(cachedAfterFault ? "yes" : "no")}, temp files: {tempAfterFault}; next: {Describe(healthy, layer.Digest)}",
            !wrongBodyDelivered && !cachedAfterFault && healthy.Complete && healthy.BodyDigest == layer.Digest ? "none" : "a wrong body was delivered or cached"));
        Assert.False(faulty.Complete, faulty.ToString());
        Assert.False(cachedAfterFault);
        Assert.True(healthy.Complete && healthy.BodyDigest == layer.Digest, healthy.ToString());
    }

    [Fact]
    public async Task A_fill_cut_half_way_resumes_with_a_range_request_and_every_client_gets_the_whole_blob()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/resumed", [LayerSize], seed: 915, throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        scenario.Proxy!.Mode = FaultMode.Truncate;

        var read = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        var answers = scenario.Proxy.Requests().Where(r => r.IsBlobGet(layer.Digest)).Select(r => r.Status).ToList();
        table.Record(output, new FaultRow(
            "upstream resets the connection half way through a blob (Range supported)",
            "the fill resumes where it broke with a Range request; the client gets the whole blob; cached once",
            $"upstream answered {string.Join(", ", answers)}; client: {Describe(read, layer.Digest)}; cached: {Cached(scenario, layer)}",
            read.Complete && read.BodyDigest == layer.Digest ? "none" : "the blob"));
        Assert.Equal([200, 206], answers);
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, read.ToString());
        Assert.True(scenario.IsCached(layer.Digest));
    }

    [Fact]
    public async Task A_slow_upstream_streams_to_the_client_as_it_arrives_while_hits_stay_unaffected()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/slow", [LayerSize], seed: 920, throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        var config = scenario.Image.Config;
        await scenario.WarmAsync(config, cancellationToken);
        scenario.Proxy!.BytesPerSecond = 1024;

        var slow = scenario.Download(layer.Digest, cancellationToken: cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var received = slow.Received;
        var clock = Stopwatch.StartNew();
        var hit = await scenario.Download(config.Digest, cancellationToken: cancellationToken).Completion;
        var hitTime = clock.Elapsed;
        var partialCached = scenario.IsCached(layer.Digest);

        table.Record(output, new FaultRow(
            "slow upstream (1 KiB/s)",
            "bytes reach the client as they arrive; hits meanwhile unaffected; nothing partial cached",
            $"{received} bytes at the client after 3 s; a hit meanwhile: {Describe(hit, config.Digest)} in {hitTime.TotalMilliseconds:F0} ms; partial blob cached: {(partialCached ? "yes" : "no")}",
            partialCached ? "a partial blob was cached" : "none"));
        Assert.InRange(received, 1, 16 * 1024);
        Assert.True(hit.Complete && hit.BodyDigest == config.Digest, hit.ToString());
        Assert.False(partialCached);
    }

    internal static string Describe(BodyRead read, NodeCache.Oci.Digest expected) =>
        $"{(int)read.Status}, {read.BytesRead} of {read.ContentLength?.ToString() ?? "?"} bytes, " +
        (read.Complete ? read.BodyDigest == expected ? "digest right" : "DIGEST WRONG" : $"transfer broken ({read.Failure?.GetType().Name ?? "short"})");

    private static string Cached(MirrorScenario scenario, BlobFile layer) => scenario.IsCached(layer.Digest) ? "yes" : "no";
}
