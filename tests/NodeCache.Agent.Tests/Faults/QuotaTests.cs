using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>The real agent with a small <c>--cache-size</c>: filled past the high watermark, it evicts the least recently used blobs down to the low one.</summary>
[Collection(FaultCollection.Name)]
public sealed class QuotaTests(FaultTable table, ITestOutputHelper output)
{
    private const long LayerSize = 2 * OciImageBuilder.MiB;

    [Fact]
    public async Task A_cache_filled_past_its_high_watermark_evicts_the_least_recently_used_blobs_down_to_the_low_watermark()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        // 10 MiB with marks at 90% and 60%: five 2 MiB layers (about 10.5 MiB) cross the high mark; the pass must leave 6 MiB or less.
        await using var scenario = await MirrorScenario.StartAsync(
            "library/quota", [LayerSize, LayerSize, LayerSize, LayerSize, LayerSize], seed: 950, throughProxy: false,
            ["--cache-size", "10MiB", "--cache-high-watermark", "90%", "--cache-low-watermark", "60%", "--eviction-interval", "1s"], null, cancellationToken);
        var layers = scenario.Image.Layers;
        foreach (var layer in layers.Take(4))
        {
            await scenario.WarmAsync(layer, cancellationToken);
        }
        // Layer 0 is used again: it is now more recent than layers 1, 2 and 3, which must go first.
        await Task.Delay(50, cancellationToken);
        await scenario.WarmAsync(layers[0], cancellationToken);
        await scenario.WarmAsync(layers[4], cancellationToken);

        var evictions = await scenario.WaitForMetricAsync("nodecache_evictions_total", AgentMetrics.Labels(), value => value >= 1, cancellationToken);
        var metrics = await scenario.MetricsAsync(cancellationToken);
        var used = metrics.Value("nodecache_cache_bytes", AgentMetrics.Labels());
        var capacity = metrics.Value("nodecache_cache_capacity_bytes", AgentMetrics.Labels());
        var kept = layers.Select((layer, i) => (i, cached: scenario.IsCached(layer.Digest))).Where(l => l.cached).Select(l => l.i).ToList();
        var passLine = scenario.Agent.Output.Tail(200).Split('\n').LastOrDefault(line => line.Contains("Eviction pass:", StringComparison.Ordinal));
        var pass = passLine is null ? "no pass logged" : passLine[passLine.IndexOf("Eviction pass:", StringComparison.Ordinal)..].Trim();

        table.Record(output, new FaultRow(
            "cache filled past its quota (5 × 2 MiB into 10 MiB, marks 90%/60%)",
            "least recently used blobs evicted down to the low watermark; recently used ones kept",
            $"{evictions} evicted; {used / (1 << 20):F1} MiB of {capacity / (1 << 20):F0} MiB used after; layers kept: {string.Join(',', kept)}; {pass}",
            "none (evicted blobs are fetched again on the next request)"));
        Assert.True(used <= 0.6 * capacity, $"{used} bytes used of {capacity}");
        Assert.Equal([0, 4], kept);
        // An evicted blob is a miss again, fetched and served whole.
        var again = await scenario.Download(layers[1].Digest, cancellationToken: cancellationToken).Completion;
        Assert.True(again.Complete && again.BodyDigest == layers[1].Digest, again.ToString());
    }
}
