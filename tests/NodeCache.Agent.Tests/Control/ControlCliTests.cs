using System.Text.Json;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Control;

/// <summary>The nodecache CLI as an operator runs it, against the real agent over its real control socket, with the distribution registry upstream.</summary>
public sealed class ControlCliTests(ControlFixture fixture, ITestOutputHelper output) : IClassFixture<ControlFixture>
{
    private const string Harbor = ControlFixture.Harbor;

    private AgentProcess Agent => fixture.Agent;

    private RegistryProcess Registry => fixture.Registry;

    [Fact]
    public async Task Prewarm_fetches_each_blob_once_shows_progress_per_blob_and_ends_with_a_summary()
    {
        var image = await fixture.PushImageAsync("team/prewarmed", "1", 3 * OciImageBuilder.MiB, 256 * OciImageBuilder.KiB);

        var run = await Cli("prewarm", image.Reference(Harbor));

        output.WriteLine(run.Stdout);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"{Harbor}/team/prewarmed:1 is {image.ManifestDigest}", run.Stdout, StringComparison.Ordinal);
        foreach (var blob in image.Blobs)
        {
            Assert.Equal(1, await Registry.CountBlobGetsAsync(blob.Digest));
            Assert.Contains($"{(blob == image.Config ? "config" : "layer ")} {blob.Digest.ToString()[..19]} fetched {Size(blob.Size)} of {Size(blob.Size)}", run.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains("1 of 1 images cached", run.Stdout, StringComparison.Ordinal);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Prewarm_in_a_terminal_draws_a_live_progress_bar_per_blob_with_bytes_and_throughput()
    {
        var image = await fixture.PushImageAsync("team/terminal", "1", 6 * OciImageBuilder.MiB, 64 * OciImageBuilder.KiB);

        var run = await NodeCacheCli.RunInTerminalAsync(Agent, "prewarm", image.Reference(Harbor));

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("\u001b[", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("━", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("100%", run.Stdout, StringComparison.Ordinal);
        foreach (var blob in image.Blobs)
        {
            Assert.Contains($"{blob.Digest.ToString()[..19]} fetched", run.Stdout, StringComparison.Ordinal);
        }
        Assert.Contains("1 of 1 images cached", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prewarmed_blobs_are_served_from_the_cache_without_asking_the_registry()
    {
        var image = await fixture.PushImageAsync("team/served", "1", 512 * OciImageBuilder.KiB);
        (await Cli("prewarm", image.Reference(Harbor))).EnsureSucceeded();
        var before = await Registry.CountBlobGetsAsync();

        using var http = new HttpClient();
        var layer = image.Layers[0];
        var bytes = await http.GetByteArrayAsync(new Uri(Agent.BaseUri, $"/v2/{image.Repository}/blobs/{layer.Digest}?ns={Harbor}"));

        Assert.Equal(layer.ReadAllBytes(), bytes);
        Assert.Equal(before, await Registry.CountBlobGetsAsync());
    }

    [Fact]
    public async Task A_second_prewarm_finds_everything_cached_and_fetches_nothing()
    {
        var image = await fixture.PushImageAsync("team/twice", "1", 1 * OciImageBuilder.MiB);
        (await Cli("prewarm", image.Reference(Harbor))).EnsureSucceeded();
        var before = await Registry.CountBlobGetsAsync();

        var run = await Cli("prewarm", "-o", "json", image.Reference(Harbor));

        Assert.Equal(0, run.ExitCode);
        var done = Assert.Single(JsonDocument.Parse(run.Stdout).RootElement.EnumerateArray());
        Assert.Equal(0, done.GetProperty("bytesFetched").GetInt64());
        Assert.Equal(image.Blobs.Sum(b => b.Size) + image.Manifest.Size, done.GetProperty("bytesCached").GetInt64());
        Assert.Equal("IMAGE_ERROR_NONE", done.GetProperty("error").GetString());
        Assert.Equal(before, await Registry.CountBlobGetsAsync());
    }

    [Fact]
    public async Task Prewarm_of_a_multi_platform_image_fetches_only_the_requested_platform()
    {
        var index = await fixture.PushIndexAsync("team/multi", "1", 128 * OciImageBuilder.KiB);

        var run = await Cli("prewarm", "--platform", "linux/arm64", index.Reference(Harbor));

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"is {index.ForArchitecture("arm64").ManifestDigest} (linux/arm64)", run.Stdout, StringComparison.Ordinal);
        foreach (var blob in index.ForArchitecture("arm64").Blobs)
        {
            Assert.Equal(1, await Registry.CountBlobGetsAsync(blob.Digest));
        }
        foreach (var blob in index.ForArchitecture("amd64").Blobs)
        {
            Assert.Equal(0, await Registry.CountBlobGetsAsync(blob.Digest));
        }
    }

    [Fact]
    public async Task Prewarm_of_a_platform_the_index_lacks_exits_with_the_not_found_code_and_names_the_platforms_it_has()
    {
        var index = await fixture.PushIndexAsync("team/platforms", "1", 64 * OciImageBuilder.KiB);

        var run = await Cli("prewarm", "--platform", "linux/s390x", index.Reference(Harbor));

        Assert.Equal(5, run.ExitCode);
        Assert.Contains($"nodecache: {index.Reference(Harbor)}: no linux/s390x image (it has linux/amd64, linux/arm64", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prewarm_with_a_malformed_platform_exits_with_the_bad_reference_code()
    {
        var run = await Cli("prewarm", "--platform", "linux", $"{Harbor}/team/any:1");

        Assert.Equal(4, run.ExitCode);
        Assert.Equal("nodecache: bad platform 'linux': os/arch[/variant], e.g. linux/arm64", run.Stderr.Trim());
    }

    [Fact]
    public async Task Ls_lists_a_prewarmed_image_with_its_digest_size_and_blobs_as_json_and_as_a_table()
    {
        var image = await fixture.PushImageAsync("team/listed", "2.0", 700 * OciImageBuilder.KiB, 20 * OciImageBuilder.KiB);
        (await Cli("prewarm", image.Reference(Harbor))).EnsureSucceeded();

        var json = await Cli("ls", "-o", "json");
        var table = await Cli("ls");

        Assert.Equal(0, json.ExitCode);
        var listed = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("images").EnumerateArray()
            .Single(i => i.GetProperty("image").GetString() == $"{Harbor}/team/listed:2.0");
        Assert.Equal(image.ManifestDigest.ToString(), listed.GetProperty("digest").GetString());
        Assert.Equal(image.Blobs.Sum(b => b.Size) + image.Manifest.Size, listed.GetProperty("size").GetInt64());
        Assert.Equal(image.Blobs.Count + 1, listed.GetProperty("blobs").GetInt32());
        Assert.False(listed.GetProperty("pinned").GetBoolean());
        Assert.True(DateTimeOffset.UtcNow - listed.GetProperty("lastUsed").GetDateTimeOffset() < TimeSpan.FromMinutes(5));
        Assert.Equal(0, table.ExitCode);
        Assert.Contains($"{Harbor}/team/listed:2.0", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("PINNED", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_as_json_count_the_cached_blobs_bytes_and_images_in_numbers_against_the_capacity()
    {
        var image = await fixture.PushImageAsync("team/counted", "1", 300 * OciImageBuilder.KiB);
        (await Cli("prewarm", image.Reference(Harbor))).EnsureSucceeded();

        var run = await Cli("stats", "-o", "json");
        (await Cli("evict", image.Reference(Harbor))).EnsureSucceeded();
        var afterEviction = JsonDocument.Parse((await Cli("stats", "-o", "json")).Stdout).RootElement;

        Assert.Equal(0, run.ExitCode);
        Assert.EndsWith("}\n", run.Stdout, StringComparison.Ordinal);
        var stats = JsonDocument.Parse(run.Stdout).RootElement;
        foreach (var count in new[] { "usedBytes", "capacityBytes", "blobs", "images", "pinnedBytes", "evictions", "fillsInFlight", "filesystemFreeBytes" })
        {
            Assert.Equal(JsonValueKind.Number, stats.GetProperty(count).ValueKind);
        }
        // An evicted image is no longer one of the cache's images, though its tag is still known.
        Assert.Equal(stats.GetProperty("images").GetInt64() - 1, afterEviction.GetProperty("images").GetInt64());
        Assert.Equal("docker.io", stats.GetProperty("defaultRegistry").GetString());
        Assert.True(stats.GetProperty("blobs").GetInt64() >= image.Blobs.Count + 1);
        Assert.True(stats.GetProperty("usedBytes").GetInt64() >= image.Blobs.Sum(b => b.Size));
        Assert.Equal(20L << 30, stats.GetProperty("capacityBytes").GetInt64());
        Assert.Equal(Agent.CacheDir, stats.GetProperty("cacheDir").GetString());
    }

    [Fact]
    public async Task An_image_the_registry_does_not_have_exits_with_the_not_found_code_and_one_line()
    {
        var run = await Cli("prewarm", $"{Harbor}/team/missing:1");

        Assert.Equal(5, run.ExitCode);
        Assert.Equal($"nodecache: {Harbor}/team/missing:1: ", run.Stderr.Trim()[..($"nodecache: {Harbor}/team/missing:1: ".Length)]);
        Assert.Single(run.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_registry_without_an_upstream_exits_with_the_not_found_code()
    {
        var run = await Cli("prewarm", "elsewhere.test/team/app:1");

        Assert.Equal(5, run.ExitCode);
        Assert.Equal("nodecache: no upstream is configured for registry elsewhere.test", run.Stderr.Trim());
    }

    [Fact]
    public async Task A_bad_reference_exits_with_its_own_code_and_fetches_nothing()
    {
        var before = await Registry.CountManifestRequestsAsync();

        var run = await Cli("prewarm", $"{Harbor}/Team/App:1");

        var hubName = await Cli("prewarm", "Team:1");

        Assert.Equal(4, run.ExitCode);
        Assert.StartsWith($"nodecache: bad image reference '{Harbor}/Team/App:1'", run.Stderr, StringComparison.Ordinal);
        // What the user typed, not the library/ prefix a one-part Docker Hub name gets.
        Assert.Equal(4, hubName.ExitCode);
        Assert.Equal("nodecache: bad image reference 'Team:1': 'Team' is not a valid repository name", hubName.Stderr.Trim());
        Assert.Equal(before, await Registry.CountManifestRequestsAsync());
    }

    [Fact]
    public async Task Without_an_agent_every_command_says_so_in_one_line_and_exits_3()
    {
        using var folder = TempFolder.Create("no-agent");
        var socket = folder.Combine("control.sock");

        foreach (var command in new[] { "ls", "stats", "pulls" })
        {
            var run = await NodeCacheCli.RunAsync(["--agent", socket, command]);

            Assert.Equal(3, run.ExitCode);
            Assert.Equal($"nodecache: the agent is not running: there is no control socket at {socket} (see --agent)", run.Stderr.Trim());
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_control_socket_is_readable_and_writable_by_owner_and_group_only()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(Agent.ControlSocket));
        Assert.Equal(0, (await Cli("stats")).ExitCode);
    }

    [Fact]
    public async Task With_control_listen_the_api_also_answers_over_tcp()
    {
        var port = LoopbackPort.Next();
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, Registry.BaseUri), "--control-listen", $"127.0.0.1:{port}"]);

        var run = await NodeCacheCli.RunAsync(["--agent", $"http://127.0.0.1:{port}", "stats", "-o", "json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(agent.CacheDir, JsonDocument.Parse(run.Stdout).RootElement.GetProperty("cacheDir").GetString());
    }

    [Fact]
    public async Task A_client_pull_during_a_prewarm_joins_its_fill_and_the_registry_sends_the_blob_once()
    {
        var image = await fixture.PushImageAsync("team/joined", "1", 48 * OciImageBuilder.MiB);
        var layer = image.Layers[0];

        var prewarm = Cli("prewarm", image.Reference(Harbor));
        using var http = new HttpClient();
        var blobUri = new Uri(Agent.BaseUri, $"/v2/{image.Repository}/blobs/{layer.Digest}?ns={Harbor}");
        // Poll until the prewarm has started the layer's fill, then pull it as containerd would.
        while (await Registry.CountBlobGetsAsync(layer.Digest) == 0 && !prewarm.IsCompleted)
        {
            await Task.Delay(20);
        }
        var pulled = await http.GetByteArrayAsync(blobUri);

        Assert.Equal(0, (await prewarm).ExitCode);
        Assert.Equal(layer.Size, pulled.LongLength);
        Assert.Equal(1, await Registry.CountBlobGetsAsync(layer.Digest));
    }

    [Fact]
    public async Task A_pull_of_an_image_the_registry_lacks_is_listed_as_failed()
    {
        using var http = new HttpClient();
        using var answer = await http.GetAsync(new Uri(Agent.BaseUri, $"/v2/team/absent/manifests/1?ns={Harbor}"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, answer.StatusCode);

        JsonElement? absent = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (absent is null)
        {
            await Task.Delay(200, timeout.Token);
            var run = await Cli("pulls", "-o", "json");
            Assert.Equal(0, run.ExitCode);
            absent = JsonDocument.Parse(run.Stdout).RootElement.EnumerateArray()
                .Where(p => p.GetProperty("repository").GetString() == "team/absent" && p.GetProperty("finished").GetBoolean())
                .Select(p => (JsonElement?)p).FirstOrDefault();
        }

        Assert.True(absent.Value.GetProperty("failed").GetBoolean());
        Assert.Equal(0, absent.Value.GetProperty("bytes").GetInt64());
    }

    private static string Size(long bytes) => NodeCache.Cli.ByteSize.Format(bytes);

    private Task<ToolRun> Cli(params string[] arguments) => NodeCacheCli.RunAsync(Agent, arguments);
}
