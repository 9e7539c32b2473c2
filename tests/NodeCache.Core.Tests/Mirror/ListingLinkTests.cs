using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Mirror;

public sealed class ListingLinkTests
{
    private static readonly RepositoryName Repository = RepositoryName.Parse("library/nginx");
    private static readonly UpstreamEndpoint Harbor = new(new Uri("https://harbor.example/"), "dockerhub-proxy");

    [Theory]
    [InlineData("</v2/dockerhub-proxy/library/nginx/tags/list?last=1.25&n=50>; rel=\"next\"", "/v2/library/nginx/tags/list?last=1.25&n=50")]
    [InlineData("<https://harbor.example/v2/dockerhub-proxy/library/nginx/tags/list?n=50&last=b>; rel=\"next\"", "/v2/library/nginx/tags/list?n=50&last=b")]
    [InlineData("</v2/dockerhub-proxy/library/nginx/referrers/sha256:abc?artifactType=x%2Fy&page=2>; rel=\"next\"", "/v2/library/nginx/referrers/sha256:abc?artifactType=x%2Fy&page=2")]
    public void A_next_page_of_the_upstream_becomes_the_same_page_under_the_clients_name(string header, string expected) =>
        Assert.Equal(expected, ListingLink.Rewrite(header, Harbor, Repository));

    [Theory]
    [InlineData(null)]
    [InlineData("</v2/dockerhub-proxy/library/nginx/tags/list?n=1>; rel=\"prev\"")]
    [InlineData("</v2/other-project/library/nginx/tags/list?n=1>; rel=\"next\"")]
    [InlineData("</v2/dockerhub-proxy/library/nginx/manifests/latest>; rel=\"next\"")]
    [InlineData("</v2/dockerhub-proxy/library/nginx/referrers/nodigest>; rel=\"next\"")]
    [InlineData("not a link")]
    public void A_link_that_is_not_a_next_page_of_this_listing_is_dropped(string? header) =>
        Assert.Null(ListingLink.Rewrite(header, Harbor, Repository));

    [Fact]
    public void The_mirrors_link_keeps_the_registry_the_client_named()
    {
        Assert.Equal("</v2/library/nginx/tags/list?n=2&last=b&ns=docker.io>; rel=\"next\"", ListingLink.Header("/v2/library/nginx/tags/list?n=2&last=b", "docker.io"));
        Assert.Equal("</v2/library/nginx/tags/list?ns=docker.io>; rel=\"next\"", ListingLink.Header("/v2/library/nginx/tags/list", "docker.io"));
        Assert.Equal("</v2/library/nginx/tags/list?n=2>; rel=\"next\"", ListingLink.Header("/v2/library/nginx/tags/list?n=2", null));
    }
}
