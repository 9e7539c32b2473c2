using NodeCache.Core.Tests.Support;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class ProxyCachePrefixTests
{
    [Fact]
    public async Task The_project_prefix_is_in_the_path_and_in_the_token_scope()
    {
        await using var harbor = await FakeHarbor.StartAsync();
        var rules = UpstreamRules.Parse([$"docker.io={harbor.Registry.BaseUri}dockerhub-proxy"]);
        Assert.True(rules.TryResolve("docker.io", out var route));
        using var client = TestUpstream.Client();

        using var response = await client.SendAsync(TestUpstream.Manifest(route, repository: "library/nginx", reference: "1.27"), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.All(harbor.Registry.Requests, r => Assert.Equal("/v2/dockerhub-proxy/library/nginx/manifests/1.27", r.Path));
        Assert.Equal(["repository:dockerhub-proxy/library/nginx:pull"], Assert.Single(harbor.TokenRequests).QueryValues("scope"));
    }

    [Fact]
    public async Task Each_endpoint_of_a_route_applies_its_own_prefix()
    {
        await using var down = await LoopbackServer.StartAsync(TestUpstream.Statuses(503, 503, 503));
        await using var harbor = await FakeHarbor.StartAsync();
        using var client = TestUpstream.Client();
        var route = TestUpstream.Route(new UpstreamEndpoint(down.BaseUri, "hub-a"), new UpstreamEndpoint(harbor.Registry.BaseUri, "hub-b"));

        using var response = await client.SendAsync(TestUpstream.Blob(route), default);

        Assert.Equal(UpstreamOutcome.Success, response.Outcome);
        Assert.StartsWith("/v2/hub-a/proj/app/blobs/", down.Requests[0].Path, StringComparison.Ordinal);
        Assert.StartsWith("/v2/hub-b/proj/app/blobs/", harbor.Registry.Requests[0].Path, StringComparison.Ordinal);
    }
}
