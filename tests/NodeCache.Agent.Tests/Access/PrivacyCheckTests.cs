using System.Net;
using NodeCache.Agent.Tests.Prefetch;

namespace NodeCache.Agent.Tests.Access;

/// <summary>
/// Whether a repository is private is asked of the upstream with one anonymous HEAD, however many requests arrive while
/// the answer is awaited: a busy node would otherwise send one per request each time the answer expires.
/// </summary>
public sealed class PrivacyCheckTests
{
    [Fact]
    public async Task Concurrent_first_requests_for_a_repository_send_one_privacy_check_upstream()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 541);
        var image = await scenario.PushImageAsync("library/popular", [4 * 1024]);
        var manifest = new Uri(scenario.Agent.BaseUri, $"/v2/{image.Repository}/manifests/{image.ManifestDigest}?ns={PrefetchScenario.Namespace}");

        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(async _ =>
        {
            using var response = await scenario.Http.GetAsync(manifest);
            return response.StatusCode;
        }));

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        var requests = await scenario.Registry.RequestsAsync();
        var digest = image.ManifestDigest.ToString();
        // The pusher sends no manifest HEAD: the one HEAD is the privacy check, and the manifest itself is fetched once.
        Assert.Single(requests, r => r.Method == "HEAD" && r.Reference == digest);
        Assert.Single(requests, r => r.Method == "GET" && r.Reference == digest);
    }
}
