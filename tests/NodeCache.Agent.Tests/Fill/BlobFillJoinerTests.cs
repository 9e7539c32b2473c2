using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Fill;

/// <summary>A client that joins a fill in progress streams what is already on disk instead of waiting for the fill to end.</summary>
public sealed class BlobFillJoinerTests
{
    private const long HoldOffset = 4 * OciImageBuilder.MiB;

    [Fact]
    public async Task A_client_joining_a_running_fill_gets_its_first_bytes_before_the_fill_ends_and_no_second_upstream_get()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/joined", [16 * OciImageBuilder.MiB], seed: 601, throughProxy: true, cancellationToken);
        var proxy = scenario.Proxy!;
        var layer = scenario.Layer;
        // A slow upstream that, on top of that, stops part way until the test has seen what it wants to see: the
        // fill is certainly running while the joiner reads, whatever the machine's speed.
        proxy.BytesPerSecond = 8 * OciImageBuilder.MiB;
        var held = proxy.HoldAt(HoldOffset);

        var first = scenario.Download(layer.Digest, cancellationToken: cancellationToken);
        await held.WaitAsync(cancellationToken);
        await first.FirstBytes.WaitAsync(cancellationToken);
        await AssertReceivingAsync(first, "the first client");
        var coalescedBefore = (await scenario.MetricsAsync(cancellationToken)).BlobRequests("coalesced");

        var joiner = scenario.Download(layer.Digest, cancellationToken: cancellationToken);
        await joiner.FirstBytes.WaitAsync(cancellationToken);

        await AssertReceivingAsync(joiner, "the joiner");
        Assert.False(scenario.IsCached(layer.Digest), "the blob is in the cache: the fill ended before the joiner read");
        Assert.Single(scenario.TempFiles());
        Assert.False(joiner.Completion.IsCompleted);
        await scenario.WaitForMetricAsync(
            "nodecache_requests_total", AgentMetrics.Labels(("kind", "blob"), ("result", "coalesced")), value => value == coalescedBefore + 1, cancellationToken);

        proxy.Release();
        var reads = await Task.WhenAll(first.Completion, joiner.Completion);

        Assert.All(reads, read =>
        {
            Assert.Equal(HttpStatusCode.OK, read.Status);
            Assert.True(read.Complete, read.ToString());
            Assert.Equal(layer.Digest, read.BodyDigest);
        });
        Assert.Equal(1, proxy.CountBlobGets(layer.Digest));
        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        scenario.AssertCached(layer);
    }

    // FirstBytes also completes when a download ends without a byte: say how it ended then.
    private static async Task AssertReceivingAsync(BlobDownload download, string who)
    {
        if (download.Received == 0)
        {
            Assert.Fail($"{who} got no bytes: {await download.Completion}");
        }
    }
}
