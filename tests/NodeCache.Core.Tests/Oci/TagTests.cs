using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class TagTests
{
    [Theory]
    [InlineData("latest", true)]
    [InlineData("1.25.3-alpine", true)]
    [InlineData("_private", true)]
    [InlineData("v1_2.3-rc", true)]
    [InlineData("", false)]
    [InlineData(".hidden", false)]
    [InlineData("-dash", false)]
    [InlineData("a/b", false)]
    [InlineData("a:b", false)]
    [InlineData("..", false)]
    public void Tags_follow_the_spec_grammar(string text, bool valid)
    {
        Assert.Equal(valid, Tag.IsValid(text));
    }

    [Fact]
    public void Tags_are_at_most_128_characters()
    {
        Assert.True(Tag.IsValid(new string('a', 128)));
        Assert.False(Tag.IsValid(new string('a', 129)));
    }
}
