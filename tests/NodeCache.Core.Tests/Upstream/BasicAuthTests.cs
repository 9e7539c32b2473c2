using Microsoft.AspNetCore.Http;
using NodeCache.Core.Tests.Support;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class BasicAuthTests
{
    private static readonly string Expected = FakeHarbor.BasicOf("robot", "pa:ss");

    [Fact]
    public async Task A_basic_challenge_is_answered_with_the_configured_credentials_which_later_requests_send_at_once()
    {
        await using var registry = await LoopbackServer.StartAsync(RequireBasicAsync);
        using var client = TestUpstream.Client(credentials: TestUpstream.Credentials(registry.Authority, "robot", "pa:ss"));
        var route = TestUpstream.Route(registry);

        using (var first = await client.SendAsync(TestUpstream.Manifest(route), default))
        {
            Assert.Equal(UpstreamOutcome.Success, first.Outcome);
        }
        using var second = await client.SendAsync(TestUpstream.Blob(route), default);

        Assert.Equal(UpstreamOutcome.Success, second.Outcome);
        Assert.Equal([null, Expected, Expected], registry.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task A_basic_challenge_without_credentials_is_Denied()
    {
        await using var registry = await LoopbackServer.StartAsync(RequireBasicAsync);
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Denied, response.Outcome);
        Assert.Contains("none are configured", response.FailureReason, StringComparison.Ordinal);
        Assert.Single(registry.Requests);
    }

    [Fact]
    public async Task Refused_credentials_are_sent_once_and_the_answer_is_Denied()
    {
        await using var registry = await LoopbackServer.StartAsync(RequireBasicAsync);
        using var client = TestUpstream.Client(credentials: TestUpstream.Credentials(registry.Authority, "robot", "wrong"));

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Denied, response.Outcome);
        Assert.Equal(2, registry.Requests.Count);
    }

    [Fact]
    public async Task A_401_without_a_challenge_is_Denied_at_once()
    {
        await using var registry = await LoopbackServer.StartAsync(TestUpstream.Statuses(401));
        using var client = TestUpstream.Client(credentials: TestUpstream.Credentials("127.0.0.1", "robot", "pa:ss"));

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Denied, response.Outcome);
        Assert.Contains("without a Bearer or Basic challenge", response.FailureReason, StringComparison.Ordinal);
        Assert.Single(registry.Requests);
    }

    private static async Task RequireBasicAsync(HttpContext context)
    {
        if (context.Request.Headers.Authorization.ToString() == Expected)
        {
            await context.Response.WriteAsync("ok");
            return;
        }
        context.Response.StatusCode = 401;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"Registry Realm\"";
    }
}
