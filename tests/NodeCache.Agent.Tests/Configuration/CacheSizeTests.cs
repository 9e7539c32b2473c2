using NodeCache.Agent.Configuration;

namespace NodeCache.Agent.Tests.Configuration;

public sealed class CacheSizeTests
{
    [Theory]
    [InlineData("20GiB", 20L << 30)]
    [InlineData("20Gi", 20L << 30)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("1.5KiB", 1536L)]
    [InlineData("1073741824", 1L << 30)]
    [InlineData("100B", 100L)]
    public void Sizes_in_bytes_parse_with_binary_and_decimal_units(string text, long bytes)
    {
        Assert.Equal(bytes, CacheSize.Parse(text).Bytes);
        Assert.Equal(bytes, CacheSize.Parse(text).Resolve(1));
    }

    [Fact]
    public void A_share_of_the_disk_resolves_against_the_filesystem_size()
    {
        var size = CacheSize.Parse("80%");

        Assert.Null(size.Bytes);
        Assert.Equal(800L, size.Resolve(1000));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5GiB")]
    [InlineData("0")]
    [InlineData("0%")]
    [InlineData("101%")]
    [InlineData("20XB")]
    public void Nonsense_sizes_are_refused(string text)
    {
        Assert.Throws<FormatException>(() => CacheSize.Parse(text));
    }
}
