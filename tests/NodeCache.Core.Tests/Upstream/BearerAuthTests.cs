using System.Net;
using NodeCache.Core.Tests.Support;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class BearerAuthTests
{
    [Fact]
    public async Task A_challenge_is_answered_with_a_token_fetched_with_the_robot_credentials()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.RequiredBasic = FakeHarbor.BasicOf("robot$ci", "pw:1");
        using var client = TestUpstream.Client(credentials: TestUpstream.Credentials(harbor.Registry.Authority, "robot$ci", "pw:1"));

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(harbor.Registry)), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal(FakeHarbor.ManifestBody, await TestUpstream.BodyOf(response));
        var tokenRequest = Assert.Single(harbor.TokenRequests);
        Assert.Equal(harbor.RequiredBasic, tokenRequest.Authorization);
        Assert.Equal([FakeHarbor.Service], tokenRequest.QueryValues("service"));
        Assert.Equal(["repository:proj/app:pull"], tokenRequest.QueryValues("scope"));
        Assert.Equal([null, "Bearer token-1"], harbor.Registry.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task Token_is_fetched_once_per_scope_until_it_expires()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.ExpiresIn = 60;
        var time = new ManualTime();
        using var client = TestUpstream.Client(time: time);
        var route = TestUpstream.Route(harbor.Registry);

        await SendAsync(client, TestUpstream.Manifest(route));
        time.Advance(TimeSpan.FromSeconds(30));
        await SendAsync(client, TestUpstream.Manifest(route, reference: "v2"));
        Assert.Single(harbor.TokenRequests);

        await SendAsync(client, TestUpstream.Manifest(route, repository: "proj/other"));
        Assert.Equal(2, harbor.TokenRequests.Count);

        time.Advance(TimeSpan.FromSeconds(30));
        await SendAsync(client, TestUpstream.Manifest(route));
        Assert.Equal(3, harbor.TokenRequests.Count);
        Assert.Equal(["repository:proj/app:pull"], harbor.TokenRequests[2].QueryValues("scope"));
    }

    [Fact]
    public async Task Requests_that_miss_together_share_one_token_request()
    {
        const int Together = 5;
        await using var harbor = await FakeHarbor.StartAsync();
        var allChallenged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harbor.BeforeIssuing = () => allChallenged.Task.WaitAsync(TimeSpan.FromSeconds(10));
        harbor.AfterChallenge = () =>
        {
            if (harbor.Registry.Requests.Count(r => r.Authorization is null) == Together)
            {
                allChallenged.TrySetResult();
            }
        };
        using var client = TestUpstream.Client();
        var route = TestUpstream.Route(harbor.Registry);

        var responses = await Task.WhenAll(Enumerable.Range(0, Together).Select(_ => client.SendAsync(TestUpstream.Manifest(route), default)));

        Assert.All(responses, r => Assert.Equal(UpstreamOutcome.Success, r.Outcome));
        Assert.All(responses, r => r.Dispose());
        Assert.Single(harbor.TokenRequests);
    }

    [Fact]
    public async Task A_cached_token_is_sent_up_front_without_a_new_challenge()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        using var client = TestUpstream.Client();
        var route = TestUpstream.Route(harbor.Registry);

        await SendAsync(client, TestUpstream.Manifest(route));
        await SendAsync(client, TestUpstream.Blob(route));

        Assert.Equal([null, "Bearer token-1", "Bearer token-1"], harbor.Registry.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task Without_expires_in_a_token_lives_the_default_sixty_seconds()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.ExpiresIn = null;
        harbor.UseAccessTokenField = true;
        var time = new ManualTime();
        using var client = TestUpstream.Client(time: time);
        var route = TestUpstream.Route(harbor.Registry);

        await SendAsync(client, TestUpstream.Manifest(route));
        time.Advance(TimeSpan.FromSeconds(50));
        await SendAsync(client, TestUpstream.Manifest(route));
        Assert.Single(harbor.TokenRequests);

        time.Advance(TimeSpan.FromSeconds(20));
        await SendAsync(client, TestUpstream.Manifest(route));
        Assert.Equal(2, harbor.TokenRequests.Count);
    }

    [Fact]
    public async Task A_refused_cached_token_is_dropped_and_a_new_one_fetched_once()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        using var client = TestUpstream.Client();
        var route = TestUpstream.Route(harbor.Registry);
        await SendAsync(client, TestUpstream.Manifest(route));

        harbor.Revoked["token-1"] = true;
        using var response = await client.SendAsync(TestUpstream.Manifest(route), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal(2, harbor.TokenRequests.Count);
        Assert.Equal([null, "Bearer token-1", "Bearer token-1", "Bearer token-2"], harbor.Registry.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task A_registry_that_refuses_every_token_is_Denied_after_one_new_token_with_its_error_body()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.AcceptsTokens = false;
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(harbor.Registry)), default);

        Assert.Equal(UpstreamOutcome.Denied, response.Outcome);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(FakeHarbor.DeniedBody, response.ErrorBody);
        Assert.Equal("application/json; charset=utf-8", response.ErrorContentType);
        Assert.Null(response.Message);
        Assert.Single(harbor.TokenRequests);
        Assert.Equal(2, harbor.Registry.Requests.Count);
    }

    [Fact]
    public async Task Without_credentials_the_token_is_requested_anonymously()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(harbor.Registry)), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Null(Assert.Single(harbor.TokenRequests).Authorization);
    }

    [Fact]
    public async Task Credentials_the_token_server_refuses_make_the_request_Denied_with_the_registry_error()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.RequiredBasic = FakeHarbor.BasicOf("robot$ci", "right");
        using var client = TestUpstream.Client(credentials: TestUpstream.Credentials(harbor.Registry.Authority, "robot$ci", "wrong"));

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(harbor.Registry)), default);

        Assert.Equal(UpstreamOutcome.Denied, response.Outcome);
        Assert.Equal(FakeHarbor.DeniedBody, response.ErrorBody);
        Assert.Contains("token server", response.FailureReason, StringComparison.Ordinal);
        Assert.Single(harbor.TokenRequests);
    }

    [Fact]
    public async Task An_unreachable_token_server_makes_the_request_Unreachable()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        await harbor.TokenServer.DisposeAsync();
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(harbor.Registry)), default);

        Assert.Equal(UpstreamOutcome.Unreachable, response.Outcome);
        Assert.Contains("token server", response.FailureReason, StringComparison.Ordinal);
    }

    private static async Task SendAsync(RegistryClient client, UpstreamRequest request)
    {
        using var response = await client.SendAsync(request, default);
        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
    }
}
