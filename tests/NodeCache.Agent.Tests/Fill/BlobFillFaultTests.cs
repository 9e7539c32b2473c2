using System.Net;
using System.Text.Json;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Fill;

/// <summary>
/// An upstream that sends bytes other than the digest's: every client's transfer breaks (never a complete-looking body),
/// nothing reaches the cache, and once the upstream is healthy again the next request fetches the blob afresh.
/// </summary>
public sealed class BlobFillFaultTests
{
    private const int Clients = 4;

    // Held there until every client has joined the one fill, so that all of them follow the same faulty download.
    private const long HoldOffset = 1 * OciImageBuilder.MiB;

    [Theory]
    [InlineData(nameof(FaultMode.Corrupt), "digest_mismatch", true)]
    [InlineData(nameof(FaultMode.ShortLength), "digest_mismatch", true)]
    [InlineData(nameof(FaultMode.Truncate), "upstream", false)]
    public async Task Wrong_upstream_bytes_break_every_clients_transfer_cache_nothing_and_the_next_request_fetches_again(string faultMode, string failureReason, bool rangeSupported)
    {
        var mode = Enum.Parse<FaultMode>(faultMode);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/faulty", [4 * OciImageBuilder.MiB], seed: 201, throughProxy: true, cancellationToken);
        var proxy = scenario.Proxy!;
        var layer = scenario.Layer;
        proxy.Mode = mode;
        // A cut body is resumed where the upstream serves ranges (FillResumeTests); here it cannot be.
        proxy.RangeSupported = rangeSupported;

        var reads = await FollowOneFaultyFillAsync(scenario, cancellationToken);

        Assert.All(reads, read =>
        {
            // Headers went out when the fill started, so the status is 200; the body must then break off short.
            Assert.Equal(HttpStatusCode.OK, read.Status);
            Assert.False(read.Complete, read.ToString());
            Assert.True(read.ContentLength is { } length && read.BytesRead < length, read.ToString());
        });
        // Where the cut body could not be resumed, the refused Range request was answered 200 too.
        var faultyGets = rangeSupported ? 1 : 2;
        await AssertNothingCachedAsync(scenario, failureReason, faultyGets, cancellationToken);
        await AssertHealthyUpstreamIsFetchedAgainAsync(scenario, faultyGets, cancellationToken);
    }

    [Fact]
    public async Task An_upstream_body_without_content_length_and_with_extra_bytes_is_answered_with_an_error_and_cached_nowhere()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/chunked", [4 * OciImageBuilder.MiB], seed: 202, throughProxy: true, cancellationToken);
        scenario.Proxy!.Mode = FaultMode.ExtraBytes;

        var reads = await FollowOneFaultyFillAsync(scenario, cancellationToken);

        Assert.All(reads, read =>
        {
            // With no size known, a response can only start once the fill is verified; this one never is.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, read.Status);
            Assert.Null(read.Failure);
        });
        await AssertNothingCachedAsync(scenario, "digest_mismatch", 1, cancellationToken);
        await AssertHealthyUpstreamIsFetchedAgainAsync(scenario, 1, cancellationToken);
    }

    /// <summary>Starts <see cref="Clients"/> GETs of the layer, holds the upstream body until all of them joined the one fill, then lets it go.</summary>
    private static async Task<BodyRead[]> FollowOneFaultyFillAsync(MirrorScenario scenario, CancellationToken cancellationToken)
    {
        var proxy = scenario.Proxy!;
        var layer = scenario.Layer;
        var held = proxy.HoldAt(HoldOffset);
        var coalescedBefore = (await scenario.MetricsAsync(cancellationToken)).BlobRequests("coalesced");
        var first = scenario.Download(layer.Digest, cancellationToken: cancellationToken);
        await held.WaitAsync(cancellationToken);
        var others = Enumerable.Range(1, Clients - 1).Select(_ => scenario.Download(layer.Digest, cancellationToken: cancellationToken)).ToList();
        await scenario.WaitForMetricAsync(
            "nodecache_requests_total",
            AgentMetrics.Labels(("kind", "blob"), ("result", "coalesced")),
            value => value >= coalescedBefore + Clients - 1,
            cancellationToken);
        proxy.Release();
        return await Task.WhenAll([first.Completion, .. others.Select(d => d.Completion)]);
    }

    private static async Task AssertNothingCachedAsync(MirrorScenario scenario, string failureReason, int faultyGets, CancellationToken cancellationToken)
    {
        var layer = scenario.Layer;
        Assert.False(scenario.IsCached(layer.Digest), $"{scenario.CachedPath(layer.Digest)} exists\n{scenario.Agent.LogTail()}");
        // Every client's response ended after the fill did, and the fill discards its temp file before it ends.
        Assert.Empty(scenario.TempFiles());
        Assert.Equal(faultyGets, scenario.Proxy!.CountBlobGets(layer.Digest));
        await scenario.WaitForMetricAsync("nodecache_fill_failures_total", AgentMetrics.Labels(("reason", failureReason)), value => value == 1, cancellationToken);
        var metrics = await scenario.MetricsAsync(cancellationToken);
        Assert.Equal(1, new[] { "digest_mismatch", "size_mismatch", "upstream", "disk" }.Sum(metrics.FillFailures));
    }

    private static async Task AssertHealthyUpstreamIsFetchedAgainAsync(MirrorScenario scenario, int faultyGets, CancellationToken cancellationToken)
    {
        var layer = scenario.Layer;
        scenario.Proxy!.Mode = FaultMode.Healthy;

        await scenario.WarmAsync(layer, cancellationToken);

        Assert.Equal(faultyGets + 1, scenario.Proxy.CountBlobGets(layer.Digest));
        Assert.Empty(scenario.TempFiles());
    }
}
