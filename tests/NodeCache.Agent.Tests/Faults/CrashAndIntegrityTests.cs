using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>
/// The agent killed with SIGKILL, stopped with SIGTERM mid-response, and its blob files damaged on disk: no partial or
/// wrong blob is ever served, and what was cached and intact is served again after the restart without the upstream.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class CrashAndIntegrityTests(FaultTable table, ITestOutputHelper output)
{
    private const long LayerSize = 2 * OciImageBuilder.MiB;

    [Fact]
    public async Task Killed_mid_fill_the_agent_restarts_with_no_partial_blob_and_fetches_it_again()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/killed", [LayerSize], seed: 930, throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        var held = scenario.Proxy!.HoldAt(LayerSize / 4);
        var download = scenario.Download(layer.Digest, cancellationToken: cancellationToken);
        await held.WaitAsync(cancellationToken);
        await download.FirstBytes.WaitAsync(cancellationToken);
        var tempBeforeKill = scenario.TempFiles().Count;

        scenario.Agent.Kill();
        await scenario.Agent.Exited.WaitAsync(cancellationToken);
        var clientRead = await download.Completion;
        scenario.Proxy.Release();
        await scenario.Agent.RestartAsync(cancellationToken);
        var tempAfter = scenario.TempFiles().Count;
        var cachedAfter = scenario.IsCached(layer.Digest);
        var again = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        table.Record(output, new FaultRow(
            "SIGKILL in the middle of a fill",
            "client's transfer breaks; after restart no temp file and no partial blob; next request fetched and served whole",
            $"client: {UpstreamFaultTests.Describe(clientRead, layer.Digest)}; temp files {tempBeforeKill} before kill, {tempAfter} after restart; partial blob visible: {(cachedAfter ? "yes" : "no")}; next: {UpstreamFaultTests.Describe(again, layer.Digest)}",
            !clientRead.Complete && !cachedAfter && again.Complete ? "none" : "partial blob visible or not served"));
        Assert.Equal(1, tempBeforeKill);
        Assert.False(clientRead.Complete);
        Assert.Equal(0, tempAfter);
        Assert.False(cachedAfter);
        Assert.True(again.Complete && again.BodyDigest == layer.Digest, again.ToString());
    }

    [Fact]
    public async Task Killed_before_the_index_checkpoint_a_cached_blob_is_verified_at_restart_and_served_without_the_upstream()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync(
            "library/unindexed", [LayerSize, LayerSize], seed: 931, throughProxy: true, ["--checkpoint-interval", "1h"], null, cancellationToken);
        var layers = scenario.Image.Layers;
        foreach (var layer in layers)
        {
            await scenario.WarmAsync(layer, cancellationToken);
        }
        // One of the two files is damaged while the agent is down: recovery must refuse it, not index it.
        scenario.Agent.Kill();
        await scenario.Agent.Exited.WaitAsync(cancellationToken);
        FlipMiddleByte(scenario.CachedPath(layers[1].Digest));

        await scenario.Agent.RestartAsync(cancellationToken);
        var good = await scenario.Download(layers[0].Digest, cancellationToken: cancellationToken).Completion;
        var damaged = await scenario.Download(layers[1].Digest, cancellationToken: cancellationToken).Completion;

        var goodGets = scenario.Proxy!.CountBlobGets(layers[0].Digest);
        var damagedGets = scenario.Proxy.CountBlobGets(layers[1].Digest);
        table.Record(output, new FaultRow(
            "SIGKILL after fills, before the index checkpoint; one file damaged while down",
            "intact file verified and indexed at restart, served without the upstream; damaged file deleted and fetched again",
            $"intact: {UpstreamFaultTests.Describe(good, layers[0].Digest)}, upstream GETs {goodGets}; damaged: {UpstreamFaultTests.Describe(damaged, layers[1].Digest)}, upstream GETs {damagedGets}",
            good.Complete && damaged.Complete && damaged.BodyDigest == layers[1].Digest ? "none" : "a blob was lost or served wrong"));
        Assert.True(good.Complete && good.BodyDigest == layers[0].Digest, good.ToString());
        Assert.Equal(1, goodGets);
        Assert.True(damaged.Complete && damaged.BodyDigest == layers[1].Digest, damaged.ToString());
        Assert.Equal(2, damagedGets);
    }

    [Fact]
    public async Task The_scrub_quarantines_a_cached_blob_corrupted_on_disk_counts_it_and_the_next_request_fetches_it_again()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync(
            "library/rotten", [LayerSize], seed: 932, throughProxy: true, ["--scrub-interval", "1s", "--scrub-rate", "64MiB"], null, cancellationToken);
        var layer = scenario.Layer;
        await scenario.WarmAsync(layer, cancellationToken);

        FlipMiddleByte(scenario.CachedPath(layer.Digest));
        var corrupt = await scenario.WaitForMetricAsync("nodecache_scrub_corrupt_blobs_total", AgentMetrics.Labels(), value => value >= 1, cancellationToken, TimeSpan.FromSeconds(30));
        var quarantined = Directory.GetFiles(Path.Combine(scenario.Agent.CacheDir, "quarantine")).Length;
        var cachedAfterScrub = scenario.IsCached(layer.Digest);
        var again = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        table.Record(output, new FaultRow(
            "cached blob corrupted on disk (one byte flipped)",
            "scrub finds it, quarantines it, counts it; the next request fetches it again",
            $"nodecache_scrub_corrupt_blobs_total {corrupt}; files in quarantine/: {quarantined}; still in cache: {(cachedAfterScrub ? "yes" : "no")}; next: {UpstreamFaultTests.Describe(again, layer.Digest)}, upstream GETs {scenario.Proxy!.CountBlobGets(layer.Digest)}",
            again.Complete && again.BodyDigest == layer.Digest ? "none" : "the blob"));
        Assert.Equal(1, quarantined);
        Assert.False(cachedAfterScrub);
        Assert.True(again.Complete && again.BodyDigest == layer.Digest, again.ToString());
        Assert.Equal(2, scenario.Proxy.CountBlobGets(layer.Digest));
    }

    [Fact]
    public async Task A_cached_blob_whose_file_size_no_longer_matches_the_index_is_never_served_and_is_fetched_again()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/shrunk", [LayerSize], seed: 933, throughProxy: true, cancellationToken);
        var layer = scenario.Layer;
        await scenario.WarmAsync(layer, cancellationToken);
        // Shared, as damage from outside the agent would be: the agent may still hold the file open to flush it.
        using (var file = new FileStream(scenario.CachedPath(layer.Digest), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(LayerSize / 2);
        }

        var read = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        table.Record(output, new FaultRow(
            "cached file truncated on disk (size differs from the index)",
            "never served; dropped and fetched again",
            $"{UpstreamFaultTests.Describe(read, layer.Digest)}; upstream GETs {scenario.Proxy!.CountBlobGets(layer.Digest)}",
            read.Complete && read.BodyDigest == layer.Digest ? "none" : "the blob"));
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, read.ToString());
        Assert.Equal(2, scenario.Proxy.CountBlobGets(layer.Digest));
    }

    [Fact]
    public async Task On_sigterm_an_in_flight_response_finishes_the_index_is_checkpointed_and_the_blob_is_served_after_restart()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync(
            "library/drained", [LayerSize], seed: 934, throughProxy: true, ["--checkpoint-interval", "1h", "--shutdown-timeout", "20s"], null, cancellationToken);
        var layer = scenario.Layer;
        // 1 MiB/s: the response is still running, two seconds from its end, when SIGTERM arrives.
        scenario.Proxy!.BytesPerSecond = 1 << 20;
        var download = scenario.Download(layer.Digest, cancellationToken: cancellationToken);
        await download.FirstBytes.WaitAsync(cancellationToken);

        var exitCode = await scenario.Agent.StopAsync(TimeSpan.FromSeconds(30));
        var read = await download.Completion;
        var checkpointed = scenario.Agent.Output.Tail(200).Contains("Index checkpointed at shutdown", StringComparison.Ordinal);
        scenario.Proxy.BytesPerSecond = 0;
        await scenario.Agent.RestartAsync(cancellationToken);
        var after = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        table.Record(output, new FaultRow(
            "SIGTERM while a 2 MiB response streams at 1 MiB/s",
            "the response finishes, exit 0, final checkpoint written; blob served after restart without the upstream",
            $"in-flight: {UpstreamFaultTests.Describe(read, layer.Digest)}; exit code {exitCode}; final checkpoint: {(checkpointed ? "yes" : "no")}; after restart: {UpstreamFaultTests.Describe(after, layer.Digest)}, upstream GETs {scenario.Proxy.CountBlobGets(layer.Digest)}",
            read.Complete && after.Complete ? "none" : "the in-flight response or the blob"));
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, read.ToString());
        Assert.Equal(0, exitCode);
        Assert.True(checkpointed, scenario.Agent.LogTail());
        Assert.True(after.Complete && after.BodyDigest == layer.Digest, after.ToString());
        Assert.Equal(1, scenario.Proxy.CountBlobGets(layer.Digest));
    }

    private static void FlipMiddleByte(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = file.Length / 2;
        var value = file.ReadByte();
        file.Position = file.Length / 2;
        file.WriteByte((byte)(value ^ 0xFF));
    }
}
