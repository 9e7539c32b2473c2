using Microsoft.AspNetCore.Http;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class RequestShapeTests
{
    [Fact]
    public async Task Manifest_requests_go_to_v2_name_manifests_reference_with_containerds_Accept_by_default()
    {
        await using var registry = await LoopbackServer.StartAsync(TestUpstream.Statuses());
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        var request = Assert.Single(registry.Requests);
        Assert.Equal("/v2/proj/app/manifests/latest", request.Path);
        Assert.Equal(MediaTypes.ManifestAccept, request.Accept);
        Assert.Null(request.Range);
        Assert.Equal("nodecache", request.UserAgent);
    }

    [Fact]
    public async Task The_clients_own_Accept_is_passed_through()
    {
        await using var registry = await LoopbackServer.StartAsync(TestUpstream.Statuses());
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry), accept: MediaTypes.OciIndex), default);

        Assert.Equal(MediaTypes.OciIndex, Assert.Single(registry.Requests).Accept);
    }

    [Fact]
    public async Task A_range_start_becomes_an_open_ended_Range_header_and_a_206_is_success()
    {
        await using var registry = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = "bytes 5-9/10";
            await context.Response.WriteAsync("56789");
        });
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(registry), rangeStart: 5), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal(System.Net.HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("56789", await TestUpstream.BodyOf(response));
        var request = Assert.Single(registry.Requests);
        Assert.Equal($"/v2/proj/app/blobs/{TestUpstream.BlobDigest}", request.Path);
        Assert.Equal("bytes=5-", request.Range);
    }

    [Fact]
    public async Task A_HEAD_answers_with_headers_and_the_body_is_left_to_the_caller()
    {
        await using var registry = await LoopbackServer.StartAsync(context =>
        {
            context.Response.Headers["Docker-Content-Digest"] = TestUpstream.BlobDigest;
            context.Response.ContentLength = 1234;
            return Task.CompletedTask;
        });
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry), method: HttpMethod.Head), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal("HEAD", Assert.Single(registry.Requests).Method);
        Assert.Equal(1234, response.Message!.Content.Headers.ContentLength);
        Assert.Equal(TestUpstream.BlobDigest, response.Message.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task Bytes_arrive_as_sent_without_decompression()
    {
        var gzipped = new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02 };
        await using var registry = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.Headers.ContentEncoding = "gzip";
            await context.Response.Body.WriteAsync(gzipped);
        });
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(registry)), default);

        Assert.Equal(gzipped, await response.Message!.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(RegistryObject.Manifest, "../../etc/passwd")]
    [InlineData(RegistryObject.Manifest, "latest?x=1")]
    [InlineData(RegistryObject.Blob, "latest")]
    [InlineData(RegistryObject.Blob, "sha256:")]
    public async Task References_outside_the_tag_and_digest_grammars_are_refused(RegistryObject what, string reference)
    {
        using var client = TestUpstream.Client();
        var request = new UpstreamRequest(TestUpstream.Route(new UpstreamEndpoint(ClosedPort.Uri(), null)), HttpMethod.Get,
            RepositoryName.Parse("proj/app"), what, reference);

        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(request, default));
    }

    [Fact]
    public async Task Only_GET_and_HEAD_are_sent()
    {
        using var client = TestUpstream.Client();
        var request = TestUpstream.Manifest(TestUpstream.Route(new UpstreamEndpoint(ClosedPort.Uri(), null)), method: HttpMethod.Put);

        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(request, default));
    }
}
