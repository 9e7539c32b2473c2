using System.Net;
using Microsoft.AspNetCore.Http;
using NodeCache.Core.Tests.Support;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class RetryAndFailoverTests
{
    [Fact]
    public async Task A_server_answering_503_twice_then_200_succeeds_on_the_third_request()
    {
        await using var registry = await LoopbackServer.StartAsync(TestUpstream.Statuses(503, 503));
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal("ok", await TestUpstream.BodyOf(response));
        Assert.Equal(3, registry.Requests.Count);
    }

    [Fact]
    public async Task A_server_that_keeps_failing_is_a_ServerError_with_its_last_error_body_after_the_retries()
    {
        await using var registry = await LoopbackServer.StartAsync(TestUpstream.Statuses(500, 502, 500, 500));
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.ServerError, response.Outcome);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("status 500", response.ErrorBody);
        Assert.Equal(1 + TestUpstream.Options.MaxRetries, registry.Requests.Count);
    }

    [Fact]
    public async Task Connection_refused_on_the_first_endpoint_moves_to_the_second()
    {
        await using var second = await LoopbackServer.StartAsync(TestUpstream.Statuses());
        using var client = TestUpstream.Client();
        var route = TestUpstream.Route(new UpstreamEndpoint(ClosedPort.Uri(), null), new UpstreamEndpoint(second.BaseUri, null));

        using var response = await client.SendAsync(TestUpstream.Blob(route), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal(second.BaseUri, response.Endpoint!.BaseUri);
    }

    [Fact]
    public async Task An_endpoint_failing_with_5xx_after_its_retries_moves_to_the_next()
    {
        await using var first = await LoopbackServer.StartAsync(TestUpstream.Statuses(503, 503, 503, 503));
        await using var second = await LoopbackServer.StartAsync(TestUpstream.Statuses());
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(first, second)), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal(3, first.Requests.Count);
        Assert.Single(second.Requests);
    }

    [Theory]
    [InlineData(404, UpstreamOutcome.NotFound)]
    [InlineData(403, UpstreamOutcome.Denied)]
    [InlineData(412, UpstreamOutcome.ClientError)]
    [InlineData(400, UpstreamOutcome.ClientError)]
    public async Task A_4xx_on_the_first_endpoint_is_the_answer_and_the_next_is_not_tried(int status, UpstreamOutcome outcome)
    {
        await using var first = await LoopbackServer.StartAsync(TestUpstream.Statuses(status));
        await using var second = await LoopbackServer.StartAsync(TestUpstream.Statuses());
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(first, second)), default);

        Assert.Equal(outcome, response.Outcome);
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal($"status {status}", response.ErrorBody);
        Assert.Single(first.Requests);
        Assert.Empty(second.Requests);
    }

    [Fact]
    public async Task A_closed_port_is_Unreachable_without_a_status()
    {
        var closed = ClosedPort.Uri();
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(new UpstreamEndpoint(closed, null))), default);

        Assert.Equal(UpstreamOutcome.Unreachable, response.Outcome);
        Assert.Null(response.StatusCode);
        Assert.Null(response.Message);
        Assert.Contains(closed.Authority, response.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_Unreachable_after_the_response_timeout()
    {
        await using var registry = await LoopbackServer.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted));
        using var client = TestUpstream.Client(options: TestUpstream.Options with { ResponseTimeout = TimeSpan.FromMilliseconds(300) });

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Unreachable, response.Outcome);
        Assert.Contains("Timeout", response.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_response_timeout_ends_with_the_headers_so_a_slow_blob_body_is_not_cut()
    {
        await using var registry = await LoopbackServer.StartAsync(async context =>
        {
            await context.Response.WriteAsync("first half, ");
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(900));
            await context.Response.WriteAsync("second half");
        });
        using var client = TestUpstream.Client(options: TestUpstream.Options with { ResponseTimeout = TimeSpan.FromMilliseconds(300) });

        using var response = await client.SendAsync(TestUpstream.Blob(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal("first half, second half", await TestUpstream.BodyOf(response));
    }

    [Fact]
    public async Task A_short_Retry_After_on_429_is_waited_for_and_the_request_retried()
    {
        var answered = 0;
        await using var registry = await LoopbackServer.StartAsync(async context =>
        {
            if (Interlocked.Increment(ref answered) == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "0";
                return;
            }
            await context.Response.WriteAsync("ok");
        });
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.Equal(2, registry.Requests.Count);
    }

    [Fact]
    public async Task A_long_Retry_After_gives_up_at_once_as_TooManyRequests_without_failing_over()
    {
        await using var first = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = "120";
            await context.Response.WriteAsync("""{"errors":[{"code":"TOOMANYREQUESTS"}]}""");
        });
        await using var second = await LoopbackServer.StartAsync(TestUpstream.Statuses());
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(first, second)), default);

        Assert.Equal(UpstreamOutcome.TooManyRequests, response.Outcome);
        Assert.Contains("TOOMANYREQUESTS", response.ErrorBody, StringComparison.Ordinal);
        Assert.Single(first.Requests);
        Assert.Empty(second.Requests);
    }

    [Fact]
    public async Task A_cancelled_request_throws_and_is_not_retried()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registry = await LoopbackServer.StartAsync(async context =>
        {
            arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        using var client = TestUpstream.Client();
        using var cancellation = new CancellationTokenSource();

        var sending = client.SendAsync(TestUpstream.Manifest(TestUpstream.Route(registry)), cancellation.Token);
        await arrived.Task;
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        Assert.Single(registry.Requests);
    }
}
