using System.Net;
using System.Text.Json;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>HEADs answer from the cache or the upstream's HEAD without downloading; a blob the upstream lacks is a plain 404.</summary>
public sealed class BlobHeadAndMissTests
{
    [Fact]
    public async Task A_head_of_a_cached_blob_answers_200_with_length_and_digest_and_no_body()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/headed", [512 * OciImageBuilder.KiB], seed: 501, cancellationToken: cancellationToken);
        var layer = scenario.Layer;
        await scenario.WarmAsync(layer, cancellationToken);

        using var response = await scenario.Http.SendAsync(scenario.BlobRequest(layer.Digest, HttpMethod.Head), cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(layer.Size, response.Content.Headers.ContentLength);
        Assert.Equal(layer.Digest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        // The pusher's own HEADs before uploading were answered 404; an answer from the upstream would be a 200.
        Assert.DoesNotContain(await scenario.Registry.RequestsAsync(cancellationToken), r => r.Method == "HEAD" && r.Succeeded && r.IsBlob(layer.Digest));
    }

    [Fact]
    public async Task A_head_of_an_uncached_blob_answers_from_the_upstreams_head_without_starting_a_fill()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/headed", [512 * OciImageBuilder.KiB], seed: 502, cancellationToken: cancellationToken);
        var layer = scenario.Layer;

        using var response = await scenario.Http.SendAsync(scenario.BlobRequest(layer.Digest, HttpMethod.Head), cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(layer.Size, response.Content.Headers.ContentLength);
        Assert.Equal(layer.Digest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        var requests = await scenario.Registry.RequestsAsync(cancellationToken);
        // The pusher's own HEAD before uploading was answered 404.
        Assert.Single(requests, r => r.Method == "HEAD" && r.Succeeded && r.IsBlob(layer.Digest));
        Assert.DoesNotContain(requests, r => r.Method == "GET" && r.IsBlob(layer.Digest));
        Assert.False(scenario.IsCached(layer.Digest));
        Assert.Empty(scenario.TempFiles());
    }

    [Fact]
    public async Task A_get_of_a_blob_the_upstream_does_not_have_answers_404_blob_unknown_after_one_upstream_request()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/headed", [4 * OciImageBuilder.KiB], seed: 503, cancellationToken: cancellationToken);
        var missing = Digest.Compute("a blob nobody pushed"u8);

        // The wait is bounded by the client: a 404 is an answer, not a failure to retry or wait out.
        using var quick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quick.CancelAfter(TimeSpan.FromSeconds(10));
        using var response = await scenario.Http.SendAsync(scenario.BlobRequest(missing), quick.Token);
        var body = await response.Content.ReadAsStringAsync(quick.Token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        var errors = json.RootElement.GetProperty("errors");
        Assert.Equal(OciErrorCode.BlobUnknown, errors[0].GetProperty("code").GetString());
        var requests = await scenario.Registry.RequestsAsync(cancellationToken);
        Assert.Single(requests, r => r.Method == "GET" && r.IsBlob(missing));
        Assert.False(scenario.IsCached(missing));
        Assert.Empty(scenario.TempFiles());
    }
}
