using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>
/// The cache on a real tmpfs of a few MiB that fills up: a fill that hits ENOSPC leaves nothing behind, later misses are
/// served straight from the upstream without caching, the agent stays up, and <c>nodecache_disk_full</c> says so.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class DiskFullTests(FaultTable table, ITestOutputHelper output)
{
    private const long LayerSize = 4 * OciImageBuilder.MiB;

    // Room for the index's log segments (FASTER allocates them as it opens) and a few layers.
    private const long DiskSize = 128 * OciImageBuilder.MiB;

    [Fact]
    public async Task When_the_disk_fills_mid_fill_nothing_partial_is_cached_and_later_misses_are_served_from_the_upstream_uncached()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        using var disk = await SmallDisk.MountAsync(DiskSize, cancellationToken);
        var cacheDir = Path.Combine(disk.Path, "cache");
        await using var scenario = await MirrorScenario.StartAsync(
            "library/full", [LayerSize, LayerSize], seed: 940, throughProxy: true, ["--disk-reserve", "1MiB", "--eviction-interval", "1h"], cacheDir, cancellationToken);
        var (first, second) = (scenario.Image.Layers[0], scenario.Image.Layers[1]);

        // The fill starts with room to spare; the disk fills up under it while the upstream body is held part way.
        var held = scenario.Proxy!.HoldAt(OciImageBuilder.MiB);
        var filling = scenario.Download(first.Digest, cancellationToken: cancellationToken);
        await held.WaitAsync(cancellationToken);
        await filling.FirstBytes.WaitAsync(cancellationToken);
        var fillingToDisk = scenario.TempFiles().Count;
        var freeAtStart = disk.FreeBytes;
        disk.FillLeaving(512 * OciImageBuilder.KiB);
        scenario.Proxy.Release();
        var brokenByEnospc = await filling.Completion;
        var diskFull = await scenario.WaitForMetricAsync("nodecache_disk_full", AgentMetrics.Labels(), value => value == 1, cancellationToken);
        var afterEnospc = (Cached: scenario.IsCached(first.Digest), Temp: scenario.TempFiles().Count);

        var servedFirst = await scenario.Download(first.Digest, cancellationToken: cancellationToken).Completion;
        var servedSecond = await scenario.Download(second.Digest, cancellationToken: cancellationToken).Completion;
        var skipped = await scenario.WaitForMetricAsync("nodecache_fills_skipped_disk_full_total", AgentMetrics.Labels(), value => value >= 2, cancellationToken);
        var cachedAny = scenario.IsCached(first.Digest) || scenario.IsCached(second.Digest);
        var alive = (await scenario.Http.GetAsync(new Uri(scenario.Agent.BaseUri, "/healthz"), cancellationToken)).IsSuccessStatusCode;

        table.Record(output, new FaultRow(
            "disk full (ENOSPC on a 128 MiB tmpfs) in the middle of a fill",
            "that transfer breaks, nothing partial cached; later misses served whole from the upstream, uncached; agent up; nodecache_disk_full 1",
            $"{freeAtStart >> 20} MiB free when the fill started, filled to 0.5 MiB; filling client: {UpstreamFaultTests.Describe(brokenByEnospc, first.Digest)}; after: cached {(afterEnospc.Cached ? "yes" : "no")}, temp files {afterEnospc.Temp}; " +
            $"nodecache_disk_full {diskFull}; next misses: {UpstreamFaultTests.Describe(servedFirst, first.Digest)} / {UpstreamFaultTests.Describe(servedSecond, second.Digest)}; " +
            $"fills skipped {skipped}; anything cached: {(cachedAny ? "yes" : "no")}; /healthz {(alive ? "ok" : "down")}",
            servedFirst.Complete && servedSecond.Complete && !afterEnospc.Cached ? "none" : "a blob could not be served, or a partial one was cached"));
        Assert.True(fillingToDisk == 1, $"{fillingToDisk} temp files while the fill was held\n{scenario.Agent.LogTail()}");
        Assert.False(brokenByEnospc.Complete, brokenByEnospc.ToString());
        Assert.False(afterEnospc.Cached);
        Assert.Equal(0, afterEnospc.Temp);
        Assert.True(servedFirst.Complete && servedFirst.BodyDigest == first.Digest, servedFirst.ToString());
        Assert.True(servedSecond.Complete && servedSecond.BodyDigest == second.Digest, servedSecond.ToString());
        Assert.False(cachedAny);
        Assert.True(alive);
        Assert.False(scenario.Agent.HasExited);

        // Space comes back: the next miss is cached again.
        File.Delete(Path.Combine(disk.Path, "filler"));
        await scenario.WarmAsync(second, cancellationToken);
        await scenario.WaitForMetricAsync("nodecache_disk_full", AgentMetrics.Labels(), value => value == 0, cancellationToken);
    }
}
