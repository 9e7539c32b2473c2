using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Control;

/// <summary>The nodecache CLI against an agent whose <c>--default-registry</c> is not docker.io: a name without a registry is that registry's.</summary>
public sealed class DefaultRegistryCliTests
{
    private const string Harbor = "harbor.test";

    [Fact]
    public async Task An_image_named_without_a_registry_is_prewarmed_pinned_and_exported_from_the_agents_default_registry()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 1603);
        var image = await builder.BuildAsync("team/app", "1", [64 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, registry.BaseUri), "--default-registry", Harbor]);
        using var files = TempFolder.Create("default-registry");

        var stats = await NodeCacheCli.RunAsync(agent, "stats", "-o", "json");
        var table = await NodeCacheCli.RunAsync(agent, "stats");
        var prewarm = await NodeCacheCli.RunAsync(agent, "prewarm", "team/app:1");
        var pin = await NodeCacheCli.RunAsync(agent, "pin", "team/app:1");
        var export = await NodeCacheCli.RunAsync(agent, "export", "team/app:1", "-o", files.Combine("app.tar"));
        var listed = await NodeCacheCli.RunAsync(agent, "ls", "-o", "json");

        Assert.Equal(Harbor, JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("defaultRegistry").GetString());
        Assert.Matches($"default registry +{Harbor.Replace(".", "\\.", StringComparison.Ordinal)}", table.Stdout);
        Assert.True(prewarm.Succeeded, prewarm.Stderr);
        Assert.Contains($"{Harbor}/team/app:1 is {image.ManifestDigest}", prewarm.Stdout, StringComparison.Ordinal);
        Assert.True(pin.Succeeded, pin.Stderr);
        Assert.True(export.Succeeded, export.Stderr);
        var cached = Assert.Single(JsonDocument.Parse(listed.Stdout).RootElement.GetProperty("images").EnumerateArray());
        Assert.Equal($"{Harbor}/team/app:1", cached.GetProperty("image").GetString());
        Assert.True(cached.GetProperty("pinned").GetBoolean());
    }
}
