using System.Text;
using NodeCache.Core.Tests.Support;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class LoggingTests
{
    private const string Password = "hunter2-Pa55word";

    [Fact]
    public async Task Logs_and_failure_reasons_never_contain_passwords_tokens_or_signed_urls()
    {
        await using var storage = await LoopbackServer.StartAsync(_ => Task.CompletedTask);
        await using var harbor = await FakeHarbor.StartAsync();
        harbor.RequiredBasic = FakeHarbor.BasicOf("robot$ci", Password);
        harbor.Content = context =>
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = $"{storage.BaseUri}layer?X-Amz-Signature=SIGNATURE0";
            return Task.CompletedTask;
        };
        var logger = new RecordingLogger();
        using var client = TestUpstream.Client(logger, TestUpstream.Credentials(harbor.Registry.Authority, "robot$ci", Password));
        var route = TestUpstream.Route(harbor.Registry);
        var reasons = new List<string?>();

        using (var fetched = await client.SendAsync(TestUpstream.Blob(route), default))
        {
            Assert.Equal(UpstreamOutcome.Success, fetched.Outcome);
        }
        harbor.Revoked["token-1"] = true;
        harbor.AcceptsTokens = false;
        using (var denied = await client.SendAsync(TestUpstream.Manifest(route), default))
        {
            Assert.Equal(UpstreamOutcome.Denied, denied.Outcome);
            reasons.Add(denied.FailureReason);
        }
        harbor.RequiredBasic = "Basic nobody";
        using (var refused = await client.SendAsync(TestUpstream.Manifest(route, repository: "proj/other"), default))
        {
            Assert.Equal(UpstreamOutcome.Denied, refused.Outcome);
            reasons.Add(refused.FailureReason);
        }

        Assert.NotEmpty(logger.Entries);
        var everything = logger.AllText + string.Join('\n', reasons);
        string[] secrets =
        [
            Password,
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"robot$ci:{Password}")),
            "token-1",
            "token-2",
            "SIGNATURE0",
        ];
        Assert.All(secrets, secret => Assert.DoesNotContain(secret, everything, StringComparison.Ordinal));
    }
}
