using NodeCache.Testing;
using Tomlyn;
using Tomlyn.Model;

namespace NodeCache.Agent.Tests.Control;

/// <summary><c>nodecache containerd hosts</c> writing the files real containerd pulls through, and putting back what it replaced.</summary>
public sealed class ContainerdHostsTests(ContainerdFixture fixture) : IClassFixture<ContainerdFixture>
{
    private const string Harbor = "harbor.test";
    private const string Backup = "hosts.toml.nodecache-backup";

    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public async Task Containerd_pulls_through_the_agent_with_the_hosts_toml_the_cli_writes()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 911);
        var image = await builder.BuildAsync("team/hosted", "1", [2 * OciImageBuilder.MiB, 64 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, registry.BaseUri));
        var server = registry.BaseUri.ToString().TrimEnd('/');
        var mirror = agent.BaseUri.ToString().TrimEnd('/');

        var run = await NodeCacheCli.RunAsync(["containerd", "hosts", "--mirror", mirror, "--registry", $"{Harbor}={server}", "--dir", Containerd.HostsDirectory]);

        Assert.Equal(0, run.ExitCode);
        var toml = TomlSerializer.Deserialize<TomlTable>(await File.ReadAllTextAsync(Path.Combine(Containerd.HostsDirectory, Harbor, "hosts.toml")))!;
        Assert.Equal(server, toml["server"]);
        var host = Assert.Single((TomlTable)toml["host"]);
        Assert.Equal(mirror, host.Key);
        Assert.Equal(["pull", "resolve"], ((TomlArray)((TomlTable)host.Value)["capabilities"]).Select(c => (string)c!));

        await Containerd.PullAsync(image.Reference(Harbor));

        foreach (var blob in image.Blobs)
        {
            Assert.Equal(1, await registry.CountBlobGetsAsync(blob.Digest));
        }
        var listed = await NodeCacheCli.RunAsync(agent, "ls");
        Assert.Contains($"{Harbor}/team/hosted:1", listed.Stdout, StringComparison.Ordinal);
        await Containerd.RemoveImageAsync(image.Reference(Harbor));
    }

    [Fact]
    public async Task Remove_puts_back_the_file_it_replaced_and_deletes_the_ones_it_created()
    {
        const string existing = "existing.test";
        const string created = "created.test:5000";
        Containerd.WriteHosts(existing, "http://127.0.0.1:1");
        var existingFile = Path.Combine(Containerd.HostsDirectory, existing, "hosts.toml");
        var original = await File.ReadAllTextAsync(existingFile);

        var write = await NodeCacheCli.RunAsync(["containerd", "hosts", "--mirror", "http://127.0.0.1:5050", "--registry", existing, "--registry", created, "--dir", Containerd.HostsDirectory]);

        Assert.Equal(0, write.ExitCode);
        Assert.Equal(original, await File.ReadAllTextAsync(Path.Combine(Containerd.HostsDirectory, existing, Backup)));
        var written = TomlSerializer.Deserialize<TomlTable>(await File.ReadAllTextAsync(existingFile))!;
        Assert.Equal($"https://{existing}", written["server"]);
        Assert.Equal($"https://{created}", TomlSerializer.Deserialize<TomlTable>(await File.ReadAllTextAsync(Path.Combine(Containerd.HostsDirectory, created, "hosts.toml")))!["server"]);

        // Writing again keeps the first backup: the file to restore is the node's, not an earlier one of ours.
        Assert.Equal(0, (await NodeCacheCli.RunAsync(["containerd", "hosts", "--mirror", "http://127.0.0.1:5051", "--registry", existing, "--dir", Containerd.HostsDirectory])).ExitCode);
        Assert.Equal(original, await File.ReadAllTextAsync(Path.Combine(Containerd.HostsDirectory, existing, Backup)));

        var remove = await NodeCacheCli.RunAsync(["containerd", "hosts", "--remove", "--registry", existing, "--registry", created, "--dir", Containerd.HostsDirectory]);

        Assert.Equal(0, remove.ExitCode);
        Assert.Equal(original, await File.ReadAllTextAsync(existingFile));
        Assert.False(File.Exists(Path.Combine(Containerd.HostsDirectory, existing, Backup)));
        Assert.False(Directory.Exists(Path.Combine(Containerd.HostsDirectory, created)));
    }

    [Fact]
    public async Task Replacing_the_nodes_file_never_leaves_containerd_without_one()
    {
        const string registry = "replaced.test";
        Containerd.WriteHosts(registry, "http://127.0.0.1:1");
        var folder = Path.Combine(Containerd.HostsDirectory, registry);
        var gone = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var replaced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(folder) { EnableRaisingEvents = true };
        watcher.Deleted += (_, e) => { if (e.Name == "hosts.toml") gone.Enqueue("deleted"); };
        watcher.Renamed += (_, e) =>
        {
            if (e.OldName == "hosts.toml")
            {
                gone.Enqueue($"renamed to {e.Name}");
            }
            if (e.Name == "hosts.toml")
            {
                replaced.TrySetResult();
            }
        };

        var write = await NodeCacheCli.RunAsync(["containerd", "hosts", "--mirror", "http://127.0.0.1:5052", "--registry", registry, "--dir", Containerd.HostsDirectory]);

        Assert.Equal(0, write.ExitCode);
        // inotify reports in order: once the new file's rename is seen, any moment without a file would have been seen before it.
        await replaced.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(gone);
        Assert.Equal(0, (await NodeCacheCli.RunAsync(["containerd", "hosts", "--remove", "--registry", registry, "--dir", Containerd.HostsDirectory])).ExitCode);
    }

    [Fact]
    public async Task Until_stopped_writes_the_files_and_puts_the_previous_ones_back_on_sigterm()
    {
        const string held = "held.test";
        Containerd.WriteHosts(held, "http://127.0.0.1:1");
        var file = Path.Combine(Containerd.HostsDirectory, held, "hosts.toml");
        var original = await File.ReadAllTextAsync(file);
        using var folder = TempFolder.Create("hosts-until-stopped");
        using var output = new CapturedOutput(folder.Combine("cli.log"));
        await using var cli = NodeCacheCli.Start(output, "containerd", "hosts", "--mirror", "http://127.0.0.1:5050", "--registry", held, "--dir", Containerd.HostsDirectory, "--until-stopped");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await output.WaitForLineAsync(l => l.Text.StartsWith(file, StringComparison.Ordinal), timeout.Token);
        Assert.Equal($"https://{held}", TomlSerializer.Deserialize<TomlTable>(await File.ReadAllTextAsync(file))!["server"]);

        Assert.Equal(0, await cli.StopAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(original, await File.ReadAllTextAsync(file));
        Assert.False(File.Exists(Path.Combine(Containerd.HostsDirectory, held, Backup)));
    }

    [Fact]
    public async Task A_sigterm_the_moment_the_files_are_written_still_puts_the_previous_ones_back()
    {
        // The stop races the end of the command's start. Before the CLI handled its own signals, about one such stop in seven
        // on this 2-core machine ended it with exit code 143 and left its hosts.toml in place: twenty rounds miss that about once
        // in twenty runs.
        const string previous = "server = \"https://held.test\"\n";
        for (var round = 0; round < 20; round++)
        {
            using var folder = TempFolder.Create("hosts-sigterm");
            var file = folder.Combine("held.test/hosts.toml");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, previous);
            using var output = new CapturedOutput(null);
            await using var cli = NodeCacheCli.Start(output, "containerd", "hosts", "--mirror", "http://127.0.0.1:5050", "--registry", "held.test", "--dir", folder.Path, "--until-stopped");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await output.WaitForLineAsync(l => l.Text.StartsWith(file, StringComparison.Ordinal), timeout.Token);

            Assert.Equal(0, await cli.StopAsync(TimeSpan.FromSeconds(15)));
            Assert.Equal(previous, await File.ReadAllTextAsync(file));
            Assert.False(File.Exists(folder.Combine("held.test/" + Backup)));
        }
    }

    [Fact]
    public async Task Docker_hub_falls_back_to_its_registry_host_and_default_has_no_server()
    {
        using var folder = TempFolder.Create("hosts-defaults");

        var run = await NodeCacheCli.RunAsync(["containerd", "hosts", "--mirror", "http://127.0.0.1:5050", "--registry", "docker.io", "--registry", "_default", "--dir", folder.Path]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("https://registry-1.docker.io", TomlSerializer.Deserialize<TomlTable>(await File.ReadAllTextAsync(Path.Combine(folder.Path, "docker.io", "hosts.toml")))!["server"]);
        Assert.False(TomlSerializer.Deserialize<TomlTable>(await File.ReadAllTextAsync(Path.Combine(folder.Path, "_default", "hosts.toml")))!.ContainsKey("server"));
    }

    [Fact]
    public async Task A_bad_registry_or_mirror_is_a_usage_error()
    {
        using var folder = TempFolder.Create("hosts-usage");

        var badRegistry = await NodeCacheCli.RunAsync(["containerd", "hosts", "--mirror", "http://127.0.0.1:5050", "--registry", "not a host", "--dir", folder.Path]);
        var badMirror = await NodeCacheCli.RunAsync(["containerd", "hosts", "--mirror", "127.0.0.1:5050", "--registry", "docker.io", "--dir", folder.Path]);

        Assert.Equal(2, badRegistry.ExitCode);
        Assert.Equal("nodecache: --registry 'not a host': 'not a host' is not a registry host[:port] or _default", badRegistry.Stderr.Trim());
        Assert.Equal(2, badMirror.ExitCode);
        Assert.Equal("nodecache: --mirror '127.0.0.1:5050' is not an http(s) URL", badMirror.Stderr.Trim());
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }
}
