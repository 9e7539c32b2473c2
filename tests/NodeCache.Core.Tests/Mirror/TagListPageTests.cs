using System.Text;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Mirror;

public sealed class TagListPageTests
{
    private static readonly RepositoryName Repository = RepositoryName.Parse("team/app");

    [Fact]
    public void A_sorted_list_under_the_clients_name_is_served_as_the_upstream_sent_it()
    {
        var served = Serve("""{"name":"team/app","tags":["a","b"]}""", [], upstreamPaged: false, out var next);

        Assert.Null(served);
        Assert.Null(next);
    }

    [Fact]
    public void An_upstream_that_ignores_n_and_last_has_them_applied_in_lexical_order_with_a_next_page()
    {
        var served = Serve("""{"name":"team/app","tags":["latest","1.0","2.0","1.1"]}""", [new("n", "2"), new("last", "1.0")], upstreamPaged: false, out var next);

        Assert.Equal("""{"name":"team/app","tags":["1.1","2.0"]}""", served);
        Assert.Equal("/v2/team/app/tags/list?n=2&last=2.0", next);
    }

    [Fact]
    public void The_last_page_has_no_link_and_n_zero_lists_nothing()
    {
        Assert.Equal("""{"name":"team/app","tags":["latest"]}""", Serve("""{"name":"team/app","tags":["latest","1.0"]}""", [new("n", "2"), new("last", "2.0")], false, out var next));
        Assert.Null(next);
        Assert.Equal("""{"name":"team/app","tags":[]}""", Serve("""{"name":"team/app","tags":["1.0"]}""", [new("n", "0")], false, out next));
        Assert.Null(next);
    }

    [Fact]
    public void A_prefixed_name_is_the_clients_and_an_upstreams_own_pages_are_left_as_they_are()
    {
        var served = Serve("""{"name":"proxy/team/app","tags":["b","a"]}""", [new("n", "1")], upstreamPaged: true, out var next);

        Assert.Equal("""{"name":"team/app","tags":["b","a"]}""", served);
        Assert.Null(next);
    }

    [Fact]
    public void A_body_that_is_not_a_tag_list_passes_unchanged() =>
        Assert.Null(Serve("""{"errors":[]}""", [new("n", "1")], false, out _));

    private static string? Serve(string body, KeyValuePair<string, string>[] query, bool upstreamPaged, out string? next)
    {
        var request = new ListingRequest(RegistryObject.TagList, "", query, null);
        return TagListPage.TryServe(Encoding.UTF8.GetBytes(body), Repository, request, upstreamPaged, out var page, out next) ? Encoding.UTF8.GetString(page) : null;
    }
}
