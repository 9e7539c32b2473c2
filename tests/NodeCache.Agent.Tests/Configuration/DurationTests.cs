using NodeCache.Agent.Configuration;

namespace NodeCache.Agent.Tests.Configuration;

public sealed class DurationTests
{
    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    [InlineData("0", 0)]
    [InlineData("2.5", 2.5)]
    public void Durations_read_as_kubernetes_users_write_them(string text, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Duration.Parse(text, "setting"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1s")]
    [InlineData("forever")]
    [InlineData("5d")]
    public void Nonsense_durations_are_refused_naming_the_setting(string text)
    {
        var error = Assert.Throws<FormatException>(() => Duration.Parse(text, "tag-ttl"));
        Assert.StartsWith("tag-ttl", error.Message, StringComparison.Ordinal);
    }
}
