using System.Text.Json;
using System.Text.RegularExpressions;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Docs;

/// <summary>
/// The README's try-it recipe, run exactly as written: its shell blocks (each marked <c>&lt;!-- try-it --&gt;</c>) in
/// order, in one bash, from the repository's root, as root. It runs in a network and PID namespace of its own: the fixed
/// ports it names (5000, 5050) are private to it, and every process it leaves running (the registry, the agent) dies
/// with the namespace when the test stops the one process it started, by its PID. Its files go to a temp folder
/// (TMPDIR, where its <c>mktemp -d</c> lands). containerd is the one part a reader already runs: the test starts its own
/// and points <c>ctr</c> at it with <c>CONTAINERD_ADDRESS</c>.
/// </summary>
public sealed partial class TryItRecipeTests
{
    private const string Marker = "<!-- try-it -->";
    private const string Image = "127.0.0.1:5000/demo/hello:1";

    [Fact]
    public async Task The_readme_recipe_pulls_an_image_through_the_agent_with_containerd_and_skopeo()
    {
        var recipe = RecipeBlocks(File.ReadAllLines(Path.Combine(Helm.RepositoryRoot, "README.md")));
        Assert.True(recipe.Count >= 3, $"the README has {recipe.Count} blocks marked {Marker}");
        using var folder = TempFolder.Create("tryit");
        await using var containerd = await ContainerdProcess.StartAsync();
        var script = folder.Combine("recipe.sh");
        await File.WriteAllTextAsync(script, string.Join("\n\n", recipe) + "\n");
        var environment = new Dictionary<string, string>
        {
            ["TMPDIR"] = folder.Path,
            ["CONTAINERD_ADDRESS"] = containerd.SocketPath,
            // The agent's control socket goes to $XDG_RUNTIME_DIR when it is set, which other agents on this machine share.
            ["XDG_RUNTIME_DIR"] = "",
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };
        using var output = new CapturedOutput(folder.Combine("recipe.log"));

        await using (var run = ChildProcess.Start(
            "unshare", ["--net", "--pid", "--fork", "--kill-child", "bash", "-c", $"ip link set lo up && exec bash -euo pipefail {script}"],
            output, environment, Helm.RepositoryRoot))
        {
            int exitCode;
            try
            {
                exitCode = await run.Exited.WaitAsync(TimeSpan.FromMinutes(5));
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"the recipe did not finish within 5 minutes\n{output.Tail(60)}\n{WorkLogs(folder)}");
            }
            await run.DrainOutputAsync(TimeSpan.FromSeconds(5));
            Assert.True(exitCode == 0, $"the recipe failed with exit code {exitCode}\n{output.Tail(60)}\n{WorkLogs(folder)}");
        }

        // What the recipe printed last: the agent's request counters, a miss (containerd's pull) and a hit (skopeo's) for blobs.
        var counters = BlobCounter().Matches(output.Text()).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(counters.GetValueOrDefault("miss") >= 2 && counters.GetValueOrDefault("hit") >= 2, $"blob counters {string.Join(", ", counters)}\n{output.Tail(20)}");

        // containerd has the image; skopeo's copy names the manifest that was pushed.
        Assert.Contains(Image, await containerd.ImageNamesAsync());
        var work = Assert.Single(Directory.GetDirectories(folder.Path, "tmp.*"));
        var pushed = ManifestDigest(Path.Combine(work, "hello", "index.json"));
        Assert.Equal(pushed, ManifestDigest(Path.Combine(work, "pulled", "index.json")));
        Assert.Contains(pushed, await containerd.ContentDigestsAsync());

        // The upstream served every blob once, and only to the agent: neither client went around it.
        var blobGets = UpstreamBlobGet().Matches(await File.ReadAllTextAsync(Path.Combine(work, "registry.log"))).ToList();
        Assert.NotEmpty(blobGets);
        Assert.All(blobGets, get => Assert.Equal("nodecache", get.Groups[2].Value));
        Assert.Equal(blobGets.Count, blobGets.Select(get => get.Groups[1].Value).Distinct().Count());
        Assert.All(blobGets, get => Assert.True(File.Exists(Path.Combine(work, "cache", "blobs", "sha256", get.Groups[1].Value)), $"{get.Groups[1].Value} is not in the agent's cache"));
    }

    [Fact]
    public void A_marker_must_precede_a_shell_block()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RecipeBlocks([Marker, "Some prose.", "```sh", "true", "```"]));

        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The body of every <c>```sh</c> block that directly follows a marker line, in order.</summary>
    private static List<string> RecipeBlocks(string[] lines)
    {
        var blocks = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != Marker)
            {
                continue;
            }
            if (i + 1 >= lines.Length || lines[i + 1].Trim() != "```sh")
            {
                throw new InvalidOperationException($"README.md line {i + 2}: {Marker} must be followed by a ```sh block");
            }
            var end = i + 2;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }
            blocks.Add(string.Join("\n", lines.Skip(i + 2).Take(end - i - 2)));
            i = end;
        }
        return blocks;
    }

    private static string ManifestDigest(string indexPath)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(indexPath));
        return index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
    }

    private static string WorkLogs(TempFolder folder) => string.Join('\n',
        Directory.GetDirectories(folder.Path, "tmp.*")
            .SelectMany(work => new[] { "agent.log", "registry.log" }.Select(name => Path.Combine(work, name)))
            .Where(File.Exists)
            .Select(log => $"--- {log}\n{string.Join('\n', File.ReadLines(log).TakeLast(30))}"));

    // nodecache_requests_total{otel_scope_name="NodeCache",kind="blob",result="hit"} 2
    [GeneratedRegex(@"^nodecache_requests_total\{[^}]*kind=""blob"",result=""(hit|miss)""\} (\d+)", RegexOptions.Multiline)]
    private static partial Regex BlobCounter();

    // The registry's access log: "GET /v2/demo/hello/blobs/sha256:<hex> HTTP/1.1" 200 116 "" "nodecache"
    [GeneratedRegex(@"""GET /v2/[^ ]+/blobs/sha256:([0-9a-f]{64})[^ ""]* HTTP/1\.1"" 200 \d+ ""[^""]*"" ""([^""]*)""")]
    private static partial Regex UpstreamBlobGet();
}
