using NodeCache.Prewarm;

namespace NodeCache.Core.Tests.Prewarm;

public sealed class PrewarmTtlTests
{
    [Theory]
    [InlineData("30m", 30 * 60)]
    [InlineData("24h", 24 * 3600)]
    [InlineData("1h30m", 90 * 60)]
    [InlineData("4s", 4)]
    [InlineData("1m500ms", 60.5)]
    public void Ttl_reads_kubernetes_durations_as_the_crd_pattern_admits_them(string text, double seconds)
    {
        Assert.True(PrewarmTtl.TryParse(text, out var ttl));
        Assert.Equal(TimeSpan.FromSeconds(seconds), ttl);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("soon")]
    [InlineData("1d")]
    [InlineData("-5m")]
    [InlineData("1.5h")]
    [InlineData("h")]
    public void Ttl_that_is_empty_or_not_whole_numbers_of_ms_s_m_h_is_no_ttl(string? text)
    {
        Assert.False(PrewarmTtl.TryParse(text, out _));
    }
}
