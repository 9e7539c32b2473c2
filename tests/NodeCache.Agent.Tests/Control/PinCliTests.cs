using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Control;

/// <summary>Pin, unpin, evict, ls and stats through the nodecache CLI, against the real agent over its control socket.</summary>
public sealed class PinCliTests(ControlFixture fixture) : IClassFixture<ControlFixture>
{
    private const string Harbor = ControlFixture.Harbor;

    private const int Refused = 9;

    private const int NotFound = 5;

    private RegistryProcess Registry => fixture.Registry;

    [Fact]
    public async Task A_pinned_image_is_listed_as_pinned_refused_by_evict_and_evicted_once_unpinned()
    {
        var image = await fixture.PushImageAsync("team/pinned", "1", 400 * OciImageBuilder.KiB, 30 * OciImageBuilder.KiB);
        var reference = image.Reference(Harbor);
        (await Cli("prewarm", reference)).EnsureSucceeded();

        var pin = await Cli("pin", reference);
        Assert.Equal(0, pin.ExitCode);
        Assert.Equal($"pinned {reference}: {image.Blobs.Count + 1} blobs, {Size(image.Blobs.Sum(b => b.Size) + image.Manifest.Size)}", pin.Stdout.Trim());
        Assert.True(Listed(await Cli("ls", "-o", "json"), reference).GetProperty("pinned").GetBoolean());

        var refused = await Cli("evict", reference);
        Assert.Equal(Refused, refused.ExitCode);
        Assert.Equal($"nodecache: {reference} is pinned: unpin it to evict it", refused.Stderr.Trim());
        var layer = await Cli("evict", image.Layers[0].Digest.ToString());
        Assert.Equal(Refused, layer.ExitCode);
        Assert.Equal($"nodecache: {image.Layers[0].Digest} is pinned: unpin it to evict it", layer.Stderr.Trim());
        await PullLayerAsync(image);
        Assert.Equal(1, await Registry.CountBlobGetsAsync(image.Layers[0].Digest));

        var unpin = await Cli("unpin", reference);
        Assert.Equal(0, unpin.ExitCode);
        Assert.Equal($"unpinned {reference}: {image.Blobs.Count + 1} blobs may be evicted again", unpin.Stdout.Trim());
        Assert.False(Listed(await Cli("ls", "-o", "json"), reference).GetProperty("pinned").GetBoolean());

        var evict = await Cli("evict", reference);
        Assert.Equal(0, evict.ExitCode);
        Assert.Equal($"evicted {reference}: {image.Blobs.Count + 1} blobs, {Size(image.Blobs.Sum(b => b.Size) + image.Manifest.Size)}", evict.Stdout.Trim());
        await PullLayerAsync(image);
        Assert.Equal(2, await Registry.CountBlobGetsAsync(image.Layers[0].Digest));
    }

    [Fact]
    public async Task Prewarm_with_pin_pins_the_image_and_the_pin_survives_an_agent_restart()
    {
        var image = await fixture.PushImageAsync("team/kept", "3", 200 * OciImageBuilder.KiB);
        var reference = image.Reference(Harbor);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, Registry.BaseUri));

        var prewarm = await NodeCacheCli.RunAsync(agent, "prewarm", "--pin", reference);
        Assert.Equal(0, prewarm.ExitCode);
        Assert.Contains("ok, pinned", prewarm.Stdout, StringComparison.Ordinal);
        await agent.RestartAsync();

        Assert.True(Listed(await NodeCacheCli.RunAsync(agent, "ls", "-o", "json"), reference).GetProperty("pinned").GetBoolean());
        var evict = await NodeCacheCli.RunAsync(agent, "evict", reference);
        Assert.Equal(Refused, evict.ExitCode);
        Assert.Equal($"nodecache: {reference} is pinned: unpin it to evict it", evict.Stderr.Trim());
    }

    [Fact]
    public async Task Stats_as_json_show_the_capacity_the_pinned_bytes_and_the_evictions()
    {
        var pinned = await fixture.PushImageAsync("team/stats-pinned", "1", 100 * OciImageBuilder.KiB);
        var evicted = await fixture.PushImageAsync("team/stats-evicted", "1", 150 * OciImageBuilder.KiB, 10 * OciImageBuilder.KiB);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, Registry.BaseUri));
        (await NodeCacheCli.RunAsync(agent, "prewarm", "--pin", pinned.Reference(Harbor))).EnsureSucceeded();
        (await NodeCacheCli.RunAsync(agent, "prewarm", evicted.Reference(Harbor))).EnsureSucceeded();
        (await NodeCacheCli.RunAsync(agent, "evict", evicted.Reference(Harbor))).EnsureSucceeded();

        var run = await NodeCacheCli.RunAsync(agent, "stats", "-o", "json");

        Assert.Equal(0, run.ExitCode);
        var stats = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(20L << 30, stats.GetProperty("capacityBytes").GetInt64());
        Assert.Equal(pinned.Blobs.Sum(b => b.Size) + pinned.Manifest.Size, stats.GetProperty("pinnedBytes").GetInt64());
        Assert.Equal(pinned.Blobs.Sum(b => b.Size) + pinned.Manifest.Size, stats.GetProperty("usedBytes").GetInt64());
        Assert.Equal(evicted.Blobs.Count + 1, stats.GetProperty("evictions").GetInt64());
        Assert.Equal(pinned.Blobs.Count + 1, stats.GetProperty("blobs").GetInt64());
    }

    [Fact]
    public async Task Evicting_what_is_not_cached_and_unpinning_what_is_not_pinned_exit_with_the_not_found_code()
    {
        var evict = await Cli("evict", $"{Harbor}/team/never:1");
        var unpin = await Cli("unpin", $"{Harbor}/team/never:1");

        Assert.Equal(NotFound, evict.ExitCode);
        Assert.Equal($"nodecache: {Harbor}/team/never:1 is not in the cache", evict.Stderr.Trim());
        Assert.Equal(NotFound, unpin.ExitCode);
        Assert.StartsWith($"nodecache: {Harbor}/team/never:1 is not pinned", unpin.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pinning_a_tag_not_pulled_yet_says_it_will_be_kept_once_pulled()
    {
        var run = await Cli("pin", $"{Harbor}/team/later:1");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"pinned {Harbor}/team/later:1: nothing of it is cached yet; it will be kept once pulled", run.Stdout.Trim());
        (await Cli("unpin", $"{Harbor}/team/later:1")).EnsureSucceeded();
    }

    private static JsonElement Listed(ToolRun ls, string reference)
    {
        Assert.Equal(0, ls.ExitCode);
        return JsonDocument.Parse(ls.Stdout).RootElement.GetProperty("images").EnumerateArray().Single(i => i.GetProperty("image").GetString() == reference);
    }

    private async Task PullLayerAsync(BuiltImage image)
    {
        using var http = new HttpClient();
        var layer = image.Layers[0];
        var bytes = await http.GetByteArrayAsync(new Uri(fixture.Agent.BaseUri, $"/v2/{image.Repository}/blobs/{layer.Digest}?ns={Harbor}"));
        Assert.Equal(layer.ReadAllBytes(), bytes);
    }

    private static string Size(long bytes) => NodeCache.Cli.ByteSize.Format(bytes);

    private Task<ToolRun> Cli(params string[] arguments) => NodeCacheCli.RunAsync(fixture.Agent, arguments);
}
