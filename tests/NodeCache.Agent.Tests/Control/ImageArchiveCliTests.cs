using System.Formats.Tar;
using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Control;

/// <summary>
/// <c>nodecache import</c> and <c>nodecache export</c> as an operator runs them against the real agent over its real control
/// socket: what a refused archive, an image that is not cached, an existing file and an interrupted upload leave behind.
/// </summary>
public sealed class ImageArchiveCliTests : IAsyncLifetime
{
    private const string Harbor = "harbor.test";

    private readonly OciImageBuilder _builder = new(seed: 733);
    private readonly TempFolder _files = TempFolder.Create("archive-cli");
    private readonly TempFolder _layouts = TempFolder.Create("archive-layouts");
    private AgentProcess _agent = null!;

    private string BlobFolder => Path.Combine(_agent.CacheDir, "blobs", "sha256");

    private string TempFolderOfCache => Path.Combine(_agent.CacheDir, "tmp");

    public async Task InitializeAsync() =>
        _agent = await AgentProcess.StartAsync(["--upstream", $"{Harbor}=http://127.0.0.1:{LoopbackPort.Next()}", "--connect-timeout", "1s"]);

    [Fact]
    public async Task An_archive_with_a_blob_that_does_not_match_its_digest_is_refused_in_one_line_with_exit_code_10_and_caches_nothing()
    {
        var image = await _builder.BuildAsync("team/corrupt", "1", [64 * OciImageBuilder.KiB]);
        var folder = await WriteLayoutFolderAsync(image);
        var layer = Path.Combine(folder, "blobs", "sha256", image.Layers[0].Digest.Hex);
        var bytes = await File.ReadAllBytesAsync(layer);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(layer, bytes);

        var run = await Cli("import", folder, "--registry", Harbor);

        Assert.Equal(10, run.ExitCode);
        var line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.StartsWith("nodecache: the archive was refused, nothing imported: ", line, StringComparison.Ordinal);
        Assert.Contains(image.Layers[0].Digest.ToString(), line, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(BlobFolder));
        Assert.Empty(Directory.GetFiles(TempFolderOfCache));
        Assert.Empty(JsonDocument.Parse((await Cli("ls", "-o", "json")).Stdout).RootElement.GetProperty("images").EnumerateArray());
    }

    [Fact]
    public async Task A_file_that_is_no_image_archive_is_refused_with_exit_code_10()
    {
        var file = _files.Combine("notes.txt");
        await File.WriteAllTextAsync(file, string.Concat(Enumerable.Repeat("not an image archive\n", 100)));

        var run = await Cli("import", file, "--registry", Harbor);

        Assert.Equal(10, run.ExitCode);
        Assert.StartsWith("nodecache: the archive was refused, nothing imported: ", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(BlobFolder));
    }

    [Fact]
    public async Task Import_in_a_terminal_draws_the_bytes_sent_and_the_agents_stage_then_the_summary()
    {
        var image = await _builder.BuildAsync("team/drawn", "1", [3 * OciImageBuilder.MiB]);
        var archive = _layouts.Combine("drawn.tar");
        await using (var output = File.Create(archive))
        {
            await ImageArchive.WriteDockerSaveAsync(output, image, $"{image.Repository}:1");
        }

        var run = await NodeCacheCli.RunInTerminalAsync(_agent, "import", archive, "--registry", Harbor);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("\u001b[", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("━", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("sending", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("agent: done", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{Harbor}/{image.Repository}:1", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"imported 1 images: {image.Blobs.Count + 1} blobs", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archive_read_from_a_pipe_of_unknown_length_is_imported()
    {
        var image = await _builder.BuildAsync("team/piped", "1", [1 * OciImageBuilder.MiB]);
        using var archive = await DockerSaveAsync(image);
        var fifo = await NamedPipeAsync("piped.fifo");

        var run = Cli("import", fifo, "--registry", Harbor, "-o", "json");
        await using (var pipe = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write)))
        {
            await pipe.WriteAsync(archive.GetBuffer().AsMemory(0, (int)archive.Length));
        }

        var done = await run;
        Assert.True(done.Succeeded, done.Stderr);
        var imported = Assert.Single(JsonDocument.Parse(done.Stdout).RootElement.GetProperty("images").EnumerateArray());
        Assert.Equal($"{Harbor}/{image.Repository}:1", imported.GetProperty("image").GetString());
        Assert.Equal(image.Blobs.Count + 1, Directory.GetFiles(BlobFolder).Length);
    }

    [Fact]
    public async Task An_upload_cut_off_by_a_killed_cli_leaves_no_blob_and_no_temp_file()
    {
        var image = await _builder.BuildAsync("team/cut", "1", [4 * OciImageBuilder.MiB]);
        using var archive = await DockerSaveAsync(image);
        var fifo = await NamedPipeAsync("upload.fifo");
        using var output = new CapturedOutput(null);
        await using var cli = NodeCacheCli.Start(_agent, output, "import", fifo, "--registry", Harbor);

        // Half the archive, then nothing: the agent is staging the layer when the CLI dies.
        await using (var pipe = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write)))
        {
            await pipe.WriteAsync(archive.GetBuffer().AsMemory(0, (int)archive.Length / 2));
            await pipe.FlushAsync();
            await WaitUntilAsync(() => Directory.GetFiles(TempFolderOfCache).Length > 0, "the agent to stage the upload");
            cli.Kill();
            await cli.Exited;
        }

        await WaitUntilAsync(() => Directory.GetFiles(TempFolderOfCache).Length == 0, "the agent to discard the staged upload");
        Assert.Empty(Directory.GetFiles(BlobFolder));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var logged = await _agent.Output.WaitForLineAsync(l => l.Text.Contains("nothing imported", StringComparison.Ordinal), timeout.Token);
        Assert.Contains("Import abandoned by the client", logged.Text, StringComparison.Ordinal);
        Assert.Equal(0, (await Cli("stats")).ExitCode);
    }

    [Fact]
    public async Task A_second_sigterm_ends_an_import_stuck_opening_a_fifo_no_one_writes_to()
    {
        var fifo = await NamedPipeAsync("never-written.fifo");
        using var output = new CapturedOutput(null);
        await using var cli = NodeCacheCli.Start(_agent, output, "import", fifo, "--registry", Harbor);
        await WaitUntilAsync(() => IsOpeningAFifo(cli.Pid), "the CLI to block opening the FIFO");

        // The first SIGTERM asks the command to stop, which it cannot see while the kernel holds it in open(2); the second,
        // sent once the first was taken (two pending at once would merge into one), ends the process as SIGTERM's default does.
        cli.Terminate();
        await WaitUntilAsync(() => !HasPendingSigterm(cli.Pid), "the CLI to take the first SIGTERM");
        // A SIGTERM left to its default action ends the process as it is taken; this one was handled, and it runs on.
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(cli.HasExited);
        cli.Terminate();

        Assert.Equal(143, await cli.Exited.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, (await Cli("stats")).ExitCode);
    }

    [Fact]
    public async Task Export_of_an_image_not_in_the_cache_exits_5_and_writes_no_file()
    {
        var target = _files.Combine("absent.tar");

        var run = await Cli("export", $"{Harbor}/team/absent:1", "-o", target);

        Assert.Equal(5, run.ExitCode);
        Assert.Equal($"nodecache: {Harbor}/team/absent:1 is not cached", run.Stderr.Trim());
        Assert.Empty(Directory.GetFileSystemEntries(_files.Path));
    }

    [Fact]
    public async Task A_sha512_oci_layout_folder_is_imported_verified_by_sha512_and_served_by_the_agent_with_no_upstream_answering()
    {
        using var builder = new OciImageBuilder(seed: 734, NodeCache.Oci.DigestAlgorithm.Sha512);
        var image = await builder.BuildAsync("team/sha512", "1", [256 * OciImageBuilder.KiB]);
        var folder = await WriteLayoutFolderAsync(image);
        Assert.True(File.Exists(Path.Combine(folder, "blobs", "sha512", image.ManifestDigest.Hex)));

        (await Cli("import", folder, "--registry", Harbor)).EnsureSucceeded();
        using var http = new HttpClient();
        using var byTag = new HttpRequestMessage(HttpMethod.Get, new Uri(_agent.BaseUri, $"/v2/{image.Repository}/manifests/1?ns={Harbor}"));
        byTag.Headers.Accept.ParseAdd(image.ManifestMediaType);
        using var manifest = await http.SendAsync(byTag);
        var layer = await http.GetByteArrayAsync(new Uri(_agent.BaseUri, $"/v2/{image.Repository}/blobs/{image.Layers[0].Digest}?ns={Harbor}"));

        Assert.Equal(System.Net.HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(image.ManifestDigest.ToString(), manifest.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        Assert.Equal(image.Layers[0].ReadAllBytes(), layer);
        Assert.Equal(
            new[] { image.ManifestDigest, image.Config.Digest, image.Layers[0].Digest }.Select(d => d.Hex).Order(StringComparer.Ordinal),
            Directory.GetFiles(Path.Combine(_agent.CacheDir, "blobs", "sha512")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(BlobFolder));
    }

    [Fact]
    public async Task Export_refuses_to_replace_an_existing_file_unless_forced()
    {
        var image = await _builder.BuildAsync("team/replaced", "1", [32 * OciImageBuilder.KiB]);
        (await Cli("import", await WriteLayoutFolderAsync(image), "--registry", Harbor)).EnsureSucceeded();
        var target = _files.Combine("images.tar");
        await File.WriteAllTextAsync(target, "keep me");

        var refused = await Cli("export", image.Reference(Harbor), "-o", target);
        var keptText = await File.ReadAllTextAsync(target);
        var forced = await Cli("export", image.Reference(Harbor), "-o", target, "--force");

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"nodecache: {target} exists: give --force to replace it", refused.Stderr.Trim());
        Assert.Equal("keep me", keptText);
        Assert.True(forced.Succeeded, forced.Stderr);
        await using var tar = File.OpenRead(target);
        var entries = new List<string>();
        await using (var reader = new TarReader(tar))
        {
            while (await reader.GetNextEntryAsync() is { } entry)
            {
                entries.Add(entry.Name);
            }
        }
        Assert.Contains("index.json", entries);
        Assert.Contains($"blobs/sha256/{image.Layers[0].Digest.Hex}", entries);
        Assert.DoesNotContain(Directory.GetFiles(_files.Path), f => f.EndsWith(".partial", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_names_exit_4_and_a_missing_agent_exits_3_before_anything_is_sent()
    {
        var image = await _builder.BuildAsync("team/named", "1", [16 * OciImageBuilder.KiB]);
        var folder = await WriteLayoutFolderAsync(image);
        var socket = _files.Combine("nobody.sock");

        var badRegistry = await Cli("import", folder, "--registry", "not a host");
        var badRepository = await Cli("import", folder, "--registry", Harbor, "--repository", "Team/App");
        var badReference = await Cli("export", $"{Harbor}/Team/App:1", "-o", _files.Combine("x.tar"));
        var noAgentImport = await NodeCacheCli.RunAsync(["--agent", socket, "import", folder, "--registry", Harbor]);
        var noAgentExport = await NodeCacheCli.RunAsync(["--agent", socket, "export", image.Reference(Harbor), "-o", _files.Combine("y.tar")]);

        Assert.Equal(4, badRegistry.ExitCode);
        Assert.Equal("nodecache: 'not a host' is not a registry name", badRegistry.Stderr.Trim());
        Assert.Equal(4, badRepository.ExitCode);
        Assert.Equal(4, badReference.ExitCode);
        Assert.Equal(3, noAgentImport.ExitCode);
        Assert.Equal($"nodecache: the agent is not running: there is no control socket at {socket} (see --agent)", noAgentImport.Stderr.Trim());
        Assert.Equal(3, noAgentExport.ExitCode);
        Assert.Empty(Directory.GetFiles(BlobFolder));
        Assert.False(File.Exists(_files.Combine("y.tar")));
    }

    [Fact]
    public async Task Images_imported_with_pin_stay_when_eviction_makes_room_and_unpinned_ones_go()
    {
        await using var small = await AgentProcess.StartAsync(
            ["--upstream", $"{Harbor}=http://127.0.0.1:{LoopbackPort.Next()}", "--cache-size", "1MiB", "--eviction-interval", "1s"]);
        var pinned = await _builder.BuildAsync("team/kept", "1", [400 * OciImageBuilder.KiB]);
        var others = new[]
        {
            await _builder.BuildAsync("team/evictable", "1", [400 * OciImageBuilder.KiB]),
            await _builder.BuildAsync("team/evictable", "2", [400 * OciImageBuilder.KiB]),
        };

        // The pinned image first: the least recently used, so the first to go if the pin did not hold.
        var run = await NodeCacheCli.RunAsync(small, "import", await WriteLayoutFolderAsync(pinned), "--registry", Harbor, "--pin");
        foreach (var other in others)
        {
            (await NodeCacheCli.RunAsync(small, "import", await WriteLayoutFolderAsync(other), "--registry", Harbor)).EnsureSucceeded();
        }

        Assert.True(run.Succeeded, run.Stderr);
        Assert.Contains($"imported 1 images: {pinned.Blobs.Count + 1} blobs ({Size(pinned.Blobs.Sum(b => b.Size) + pinned.Manifest.Size)}) new to the cache, {pinned.Blobs.Count + 1} blobs pinned", run.Stdout, StringComparison.Ordinal);
        var blobs = Path.Combine(small.CacheDir, "blobs", "sha256");
        await WaitUntilAsync(() => others.Any(o => !File.Exists(Path.Combine(blobs, o.Layers[0].Digest.Hex))), "an eviction pass to evict an unpinned layer");
        Assert.All(pinned.Blobs.Append(pinned.Manifest), b => Assert.True(File.Exists(Path.Combine(blobs, b.Digest.Hex)), $"{b.Digest} was evicted"));
        Assert.Contains(pinned.ManifestDigest.ToString(), await File.ReadAllTextAsync(Path.Combine(small.CacheDir, "pins.json")), StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
        _builder.Dispose();
        _files.Dispose();
        _layouts.Dispose();
    }

    private async Task<string> WriteLayoutFolderAsync(BuiltImage image)
    {
        var folder = _layouts.Combine(Guid.NewGuid().ToString("N"), create: true);
        using var layout = new MemoryStream();
        await ImageArchive.WriteOciLayoutAsync(layout, [(image, $"{image.Repository}:{image.Tag}")]);
        layout.Position = 0;
        await TarFile.ExtractToDirectoryAsync(layout, folder, overwriteFiles: false);
        return folder;
    }

    private static async Task<MemoryStream> DockerSaveAsync(BuiltImage image)
    {
        var archive = new MemoryStream();
        await ImageArchive.WriteDockerSaveAsync(archive, image, $"{image.Repository}:1");
        return archive;
    }

    // A named pipe: the CLI reads it as a file of unknown length, and the test decides when bytes arrive.
    private async Task<string> NamedPipeAsync(string name)
    {
        var fifo = _files.Combine(name);
        (await ToolRun.RunAsync(RequiredTools.Find("mkfifo"), [fifo], TimeSpan.FromSeconds(10))).EnsureSucceeded();
        return fifo;
    }

    // The kernel's name for where a thread waits in open(2) for the other end of a FIFO. The main thread's only: the runtime's
    // debugger thread waits there for its own pipe from the start.
    private static bool IsOpeningAFifo(int pid) => File.ReadAllText($"/proc/{pid}/wchan") == "wait_for_partner";

    // SIGTERM (15) is bit 14 of the pending masks in /proc/PID/status: signals sent to the process, and to its main thread.
    private static bool HasPendingSigterm(int pid) =>
        File.ReadLines($"/proc/{pid}/status")
            .Where(line => line.StartsWith("ShdPnd:", StringComparison.Ordinal) || line.StartsWith("SigPnd:", StringComparison.Ordinal))
            .Any(line => (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << 14)) != 0);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!condition())
        {
            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"waited 20 s for {what}");
            }
        }
    }

    private static string Size(long bytes) => NodeCache.Cli.ByteSize.Format(bytes);

    private Task<ToolRun> Cli(params string[] arguments) => NodeCacheCli.RunAsync(_agent, arguments);
}
