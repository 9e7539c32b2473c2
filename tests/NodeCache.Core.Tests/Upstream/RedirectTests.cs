using System.Net;
using Microsoft.AspNetCore.Http;
using NodeCache.Core.Tests.Support;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class RedirectTests
{
    [Fact]
    public async Task A_blob_redirected_to_another_origin_is_fetched_there_without_the_registry_authorization()
    {
        await using var storage = await LoopbackServer.StartAsync(context => context.Response.WriteAsync("layer bytes"));
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.Content = context =>
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = $"{storage.BaseUri}bucket/layer?X-Amz-Signature=abc123";
            return Task.CompletedTask;
        };
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(harbor.Registry)), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal("layer bytes", await TestUpstream.BodyOf(response));
        Assert.Equal(harbor.Registry.BaseUri, response.Endpoint!.BaseUri);
        var fetched = Assert.Single(storage.Requests);
        Assert.Null(fetched.Authorization);
        Assert.Equal("?X-Amz-Signature=abc123", fetched.Query);
        Assert.Equal("Bearer token-1", harbor.Registry.Requests[^1].Authorization);
    }

    [Fact]
    public async Task A_redirect_within_the_registry_keeps_the_authorization_and_the_range()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.Content = async context =>
        {
            if (context.Request.Query.ContainsKey("moved"))
            {
                await context.Response.WriteAsync("layer bytes");
                return;
            }
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = $"{context.Request.Path}?moved=1";
        };
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(harbor.Registry), rangeStart: 3), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        var moved = harbor.Registry.Requests[^1];
        Assert.Equal("?moved=1", moved.Query);
        Assert.Equal("Bearer token-1", moved.Authorization);
        Assert.Equal("bytes=3-", moved.Range);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Every_redirect_status_is_followed_with_the_same_method(int status)
    {
        await using var storage = await LoopbackServer.StartAsync(context => context.Response.WriteAsync("layer bytes"));
        await using var registry = await LoopbackServer.StartAsync(context =>
        {
            context.Response.StatusCode = status;
            context.Response.Headers.Location = $"{storage.BaseUri}layer";
            return Task.CompletedTask;
        });
        using var client = TestUpstream.Client();
        var head = TestUpstream.Blob(TestUpstream.Route(registry)) with { Method = HttpMethod.Head };

        using var response = await client.SendAsync(head, default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal("HEAD", Assert.Single(storage.Requests).Method);
    }

    [Fact]
    public async Task A_redirect_loop_ends_as_a_server_error()
    {
        await using var registry = await LoopbackServer.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = context.Request.Path.Value;
            return Task.CompletedTask;
        });
        using var client = TestUpstream.Client(options: TestUpstream.Options with { MaxRetries = 0 });

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.ServerError, response.Outcome);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Contains("redirect", response.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refusal_by_object_storage_is_Denied_and_not_answered_as_a_registry_challenge()
    {
        await using var storage = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://storage.invalid/token\"";
            await context.Response.WriteAsync("<Error><Code>ExpiredToken</Code></Error>");
        });
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.Content = context =>
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = $"{storage.BaseUri}layer";
            return Task.CompletedTask;
        };
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(harbor.Registry)), default);

        Assert.Equal(UpstreamOutcome.Denied, response.Outcome);
        Assert.Equal("<Error><Code>ExpiredToken</Code></Error>", response.ErrorBody);
        Assert.Single(harbor.TokenRequests);
        Assert.Single(storage.Requests);
    }
}
