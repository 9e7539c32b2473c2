using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class RangeHeaderTests
{
    [Theory]
    [InlineData("bytes=0-", 0, 999)]
    [InlineData("bytes=100-", 100, 999)]
    [InlineData("bytes=100-199", 100, 199)]
    [InlineData("bytes=100-5000", 100, 999)]
    [InlineData("bytes=999-999", 999, 999)]
    [InlineData("bytes=-10", 990, 999)]
    [InlineData("bytes=-5000", 0, 999)]
    [InlineData("Bytes=5-6", 5, 6)]
    public void A_single_range_inside_the_blob_is_partial(string header, long first, long last)
    {
        Assert.Equal(RangeRequest.Partial, RangeHeader.Parse(header, 1000, out var range));
        Assert.Equal(new ByteRange(first, last), range);
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=5000-6000")]
    [InlineData("bytes=-0")]
    public void A_range_past_the_end_is_unsatisfiable(string header)
    {
        Assert.Equal(RangeRequest.Unsatisfiable, RangeHeader.Parse(header, 1000, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("items=0-5")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=abc-")]
    [InlineData("bytes=5-1")]
    [InlineData("bytes=")]
    [InlineData("bytes=99999999999999999999-")]
    public void A_header_this_server_ignores_means_the_whole_blob(string header)
    {
        Assert.Equal(RangeRequest.Whole, RangeHeader.Parse(header, 1000, out _));
    }

    [Fact]
    public void Content_range_names_the_range_and_the_total()
    {
        Assert.Equal("bytes 100-199/1000", new ByteRange(100, 199).ToContentRange(1000));
        Assert.Equal(100, new ByteRange(100, 199).Length);
    }

    [Fact]
    public void Any_range_of_an_empty_blob_is_unsatisfiable()
    {
        Assert.Equal(RangeRequest.Unsatisfiable, RangeHeader.Parse("bytes=0-", 0, out _));
        Assert.Equal(RangeRequest.Unsatisfiable, RangeHeader.Parse("bytes=-5", 0, out _));
    }
}
