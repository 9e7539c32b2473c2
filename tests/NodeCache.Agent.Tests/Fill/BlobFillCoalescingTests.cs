using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Fill;

/// <summary>Many clients missing the same blob at once cost the upstream one download, and all of them get the blob.</summary>
public sealed class BlobFillCoalescingTests
{
    private const int Clients = 50;

    [Fact]
    public async Task Fifty_simultaneous_cold_gets_of_one_100_MiB_blob_make_one_upstream_get()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/big", [100 * OciImageBuilder.MiB], seed: 101, cancellationToken: cancellationToken);
        var layer = scenario.Layer;
        Assert.True(layer.Size >= 100 * OciImageBuilder.MiB, $"layer is {layer.Size} bytes");

        // Each client hashes its body as it streams: 50 bodies of 100 MiB are never held in memory.
        var downloads = Enumerable.Range(0, Clients).Select(_ => scenario.Download(layer.Digest, cancellationToken: cancellationToken)).ToList();
        var reads = await Task.WhenAll(downloads.Select(d => d.Completion));

        Assert.All(reads, read =>
        {
            Assert.Equal(HttpStatusCode.OK, read.Status);
            Assert.Equal(layer.Size, read.ContentLength);
            Assert.True(read.Complete, read.ToString());
            Assert.Equal(layer.Digest, read.BodyDigest);
            Assert.Equal(layer.Digest.ToString(), read.ContentDigest);
        });
        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        scenario.AssertCached(layer);
        Assert.Empty(scenario.TempFiles());
    }
}
