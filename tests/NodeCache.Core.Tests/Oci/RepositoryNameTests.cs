using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class RepositoryNameTests
{
    [Theory]
    [InlineData("nginx")]
    [InlineData("library/nginx")]
    [InlineData("a/b/c/d")]
    [InlineData("my-org/my_app")]
    [InlineData("my__app")]
    [InlineData("a.b/c---d")]
    [InlineData("0/1")]
    public void Names_of_the_spec_grammar_are_accepted(string text)
    {
        Assert.True(RepositoryName.TryParse(text, out var name));
        Assert.Equal(text, name.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Library/nginx")]
    [InlineData("/nginx")]
    [InlineData("nginx/")]
    [InlineData("a//b")]
    [InlineData("-a")]
    [InlineData("a-")]
    [InlineData("a___b")]
    [InlineData("a..b")]
    [InlineData("a._b")]
    [InlineData("..")]
    [InlineData("../etc")]
    [InlineData("a/../b")]
    [InlineData("a%2Fb")]
    [InlineData("a b")]
    [InlineData("a\0b")]
    public void Names_outside_the_grammar_are_refused(string text)
    {
        Assert.False(RepositoryName.TryParse(text, out _));
    }

    [Fact]
    public void Names_longer_than_the_limit_are_refused()
    {
        Assert.True(RepositoryName.TryParse(new string('a', RepositoryName.MaxLength), out _));
        Assert.False(RepositoryName.TryParse(new string('a', RepositoryName.MaxLength + 1), out _));
    }

    [Fact]
    public void A_proxy_cache_prefix_is_put_in_front()
    {
        var name = RepositoryName.Parse("library/nginx");

        Assert.Equal("dockerhub-proxy/library/nginx", name.WithPrefix("dockerhub-proxy").Value);
        Assert.Same(name, name.WithPrefix(null));
    }
}
