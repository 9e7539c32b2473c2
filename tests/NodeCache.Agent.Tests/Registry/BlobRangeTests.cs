using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>Range requests of blobs, cached or not, as containerd sends them to resume a download.</summary>
public sealed class BlobRangeTests
{
    [Fact]
    public async Task Ranges_of_a_cached_blob_are_answered_206_with_their_content_range_and_bytes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/ranged", [3 * OciImageBuilder.MiB], seed: 301, cancellationToken: cancellationToken);
        var layer = scenario.Layer;
        var content = layer.ReadAllBytes();
        var size = content.LongLength;
        await scenario.WarmAsync(layer, cancellationToken);
        var hitsBefore = (await scenario.MetricsAsync(cancellationToken)).BlobRequests("hit");

        (string Range, long First, long Last)[] cases =
        [
            ($"bytes={size - 100_000}-", size - 100_000, size - 1),
            ("bytes=1000-1999", 1000, 1999),
            ("bytes=0-0", 0, 0),
            ($"bytes={size - 10}-{size + 1000}", size - 10, size - 1),
            ("bytes=-4096", size - 4096, size - 1),
            // Long enough to go out by sendfile on the socket rather than through Kestrel.
            ($"bytes=1000-{1000 + (2 * OciImageBuilder.MiB) - 1}", 1000, 1000 + (2 * OciImageBuilder.MiB) - 1),
        ];
        foreach (var (range, first, last) in cases)
        {
            using var response = await scenario.Http.SendAsync(scenario.BlobRequest(layer.Digest, range: range), cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);

            Assert.True(response.StatusCode == HttpStatusCode.PartialContent, $"{range}: {(int)response.StatusCode}");
            Assert.Equal($"bytes {first}-{last}/{size}", response.Content.Headers.ContentRange?.ToString());
            Assert.Equal(last - first + 1, response.Content.Headers.ContentLength);
            Assert.True(content.AsSpan((int)first, (int)(last - first + 1)).SequenceEqual(body), $"{range}: {body.Length} bytes, not those of the blob");
        }

        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        await scenario.WaitForMetricAsync(
            "nodecache_requests_total", AgentMetrics.Labels(("kind", "blob"), ("result", "hit")), value => value >= hitsBefore + cases.Length, cancellationToken);
    }

    [Fact]
    public async Task A_range_starting_at_the_end_of_a_cached_blob_is_answered_416_with_the_blob_size()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/ranged", [256 * OciImageBuilder.KiB], seed: 302, cancellationToken: cancellationToken);
        var layer = scenario.Layer;
        await scenario.WarmAsync(layer, cancellationToken);

        foreach (var range in new[] { $"bytes={layer.Size}-", $"bytes={layer.Size + 10}-{layer.Size + 20}" })
        {
            using var response = await scenario.Http.SendAsync(scenario.BlobRequest(layer.Digest, range: range), cancellationToken);

            Assert.True(response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable, $"{range}: {(int)response.StatusCode}");
            Assert.Equal($"bytes */{layer.Size}", response.Content.Headers.ContentRange?.ToString());
            Assert.Empty(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        }
    }

    [Fact]
    public async Task A_cold_range_request_is_served_from_one_whole_blob_fill_and_a_later_full_get_is_a_cache_hit()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/ranged", [3 * OciImageBuilder.MiB], seed: 303, cancellationToken: cancellationToken);
        var layer = scenario.Layer;
        var content = layer.ReadAllBytes();
        const long First = 1_000_000;
        const long Last = 1_999_999;

        using (var response = await scenario.Http.SendAsync(scenario.BlobRequest(layer.Digest, range: $"bytes={First}-{Last}"), cancellationToken))
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);

            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal($"bytes {First}-{Last}/{layer.Size}", response.Content.Headers.ContentRange?.ToString());
            Assert.True(content.AsSpan((int)First, (int)(Last - First + 1)).SequenceEqual(body), $"{body.Length} bytes, not those of the blob's range");
        }
        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        var hitsBefore = (await scenario.MetricsAsync(cancellationToken)).BlobRequests("hit");

        var full = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

        Assert.Equal(HttpStatusCode.OK, full.Status);
        Assert.True(full.Complete, full.ToString());
        Assert.Equal(layer.Digest, full.BodyDigest);
        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        await scenario.WaitForMetricAsync(
            "nodecache_requests_total", AgentMetrics.Labels(("kind", "blob"), ("result", "hit")), value => value >= hitsBefore + 1, cancellationToken);
    }
}
