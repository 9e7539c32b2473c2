using System.Text.Json;
using NodeCache.Prefetch;

namespace NodeCache.Core.Tests.Prefetch;

public sealed class NodePlatformTests
{
    [Theory]
    [InlineData("linux", "arm64", null, """{"os":"linux","architecture":"arm64"}""", true)]
    [InlineData("linux", "arm64", null, """{"os":"linux","architecture":"arm64","variant":"v8"}""", true)]
    [InlineData("linux", "arm64", null, """{"os":"linux","architecture":"amd64"}""", false)]
    [InlineData("linux", "arm", "v7", """{"os":"linux","architecture":"arm","variant":"v6"}""", false)]
    [InlineData("linux", "arm", "v7", """{"os":"linux","architecture":"arm","variant":"v7"}""", true)]
    [InlineData("windows", "amd64", null, """{"os":"linux","architecture":"amd64"}""", false)]
    public void An_index_entry_matches_on_os_architecture_and_variant(string os, string architecture, string? variant, string platform, bool matches)
    {
        using var document = JsonDocument.Parse(platform);
        Assert.Equal(matches, new NodePlatform(os, architecture, variant).Matches(document.RootElement));
    }
}
