using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux", "arm64", null, "linux", "arm64", null, true)]
    [InlineData("linux", "arm64", null, "linux", "arm64", "v8", true)]
    [InlineData("linux", "arm64", "v8", "linux", "arm64", null, true)]
    [InlineData("linux", "arm64", null, "linux", "amd64", null, false)]
    [InlineData("linux", "arm", "v7", "linux", "arm", "v6", false)]
    [InlineData("linux", "arm", "v7", "linux", "arm", "v7", true)]
    [InlineData("windows", "amd64", null, "linux", "amd64", null, false)]
    public void An_index_entry_matches_on_os_architecture_and_variant(string os, string architecture, string? variant, string entryOs, string entryArchitecture, string? entryVariant, bool matches) =>
        Assert.Equal(matches, new Platform(os, architecture, variant).Matches(new Platform(entryOs, entryArchitecture, entryVariant)));

    [Theory]
    [InlineData("linux/amd64", "linux", "amd64", null)]
    [InlineData("linux/arm64/v8", "linux", "arm64", "v8")]
    [InlineData("Linux/ARM/v7", "linux", "arm", "v7")]
    public void A_platform_parses_from_os_architecture_and_variant(string text, string os, string architecture, string? variant)
    {
        Assert.True(Platform.TryParse(text, out var platform));
        Assert.Equal(new Platform(os, architecture, variant), platform);
    }

    [Theory]
    [InlineData("")]
    [InlineData("linux")]
    [InlineData("linux//v7")]
    [InlineData("linux/arm/v7/extra")]
    public void A_malformed_platform_is_refused(string text) => Assert.False(Platform.TryParse(text, out _));
}
