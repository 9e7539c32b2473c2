using System.Diagnostics;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using NodeCache.Testing.Cluster;
using NodeCache.Testing.Cri;

namespace NodeCache.Testing;

/// <summary>
/// A private containerd (root, state, socket and hosts.toml folder all in one temp folder) with the CRI plugin and
/// the overlayfs snapshotter, pulling the way a node does: <c>ctr images pull --hosts-dir</c>, and the kubelet's
/// <c>runtime.v1.ImageService/PullImage</c> over the Unix socket. On a machine of a <see cref="NodeNetwork"/>, containerd and
/// ctr (which fetches in its own process) run inside its namespace, so the node's <c>127.0.0.1</c> is the one they dial.
/// </summary>
public sealed class ContainerdProcess : IAsyncDisposable
{
    /// <summary>The namespace ctr works in by default.</summary>
    public const string DefaultNamespace = "default";

    /// <summary>The namespace the CRI plugin keeps the kubelet's images in.</summary>
    public const string CriNamespace = "k8s.io";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(5);

    private readonly TempFolder _folder;
    private readonly string _ctr;
    private readonly NetworkNamespace? _machine;
    private readonly CapturedOutput _output;
    private ChildProcess _process = null!;
    private GrpcChannel? _channel;

    private ContainerdProcess(TempFolder folder, NetworkNamespace? machine)
    {
        _folder = folder;
        _machine = machine;
        _ctr = RequiredTools.Ctr;
        Root = folder.Combine("root", create: true);
        State = folder.Combine("state", create: true);
        HostsDirectory = folder.Combine("certs.d", create: true);
        SocketPath = folder.Combine("c.sock");
        LogPath = folder.Combine("containerd.log");
        ConfigPath = folder.Combine("config.toml");
        _output = new CapturedOutput(LogPath);
        File.WriteAllText(ConfigPath, Config());
    }

    public string Root { get; }

    public string State { get; }

    /// <summary>The <c>config_path</c> of the CRI registry config and ctr's <c>--hosts-dir</c>: one <c>&lt;host&gt;/hosts.toml</c> per registry.</summary>
    public string HostsDirectory { get; }

    public string SocketPath { get; }

    public string LogPath { get; }

    public string ConfigPath { get; }

    public int Pid => _process.Pid;

    /// <param name="machine">Run containerd, and every ctr command, inside this machine's namespace.</param>
    public static async Task<ContainerdProcess> StartAsync(NetworkNamespace? machine = null, CancellationToken cancellationToken = default)
    {
        RequiredTools.RequireRoot("containerd");
        var containerd = new ContainerdProcess(TempFolder.Create("ctrd"), machine);
        try
        {
            await containerd.LaunchAsync(cancellationToken);
            return containerd;
        }
        catch
        {
            await containerd.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Writes <c>certs.d/&lt;registryHost&gt;/hosts.toml</c>: the registry itself at <paramref name="serverUrl"/>, and
    /// before it each mirror in order, for pull and resolve. Replaces what was there.
    /// </summary>
    public void WriteHosts(string registryHost, string serverUrl, params string[] mirrorUrls)
    {
        var lines = new List<string> { $"server = \"{serverUrl}\"" };
        if (mirrorUrls.Length == 0)
        {
            // containerd 1.6 refuses a hosts.toml with no host tree ("invalid `host` tree", containerd#10027) and
            // then ignores the file; an empty one is the usual workaround.
            lines.Add("");
            lines.Add("[host]");
        }
        foreach (var mirror in mirrorUrls)
        {
            lines.Add("");
            lines.Add($"[host.\"{mirror}\"]");
            lines.Add("  capabilities = [\"pull\", \"resolve\"]");
            if (mirror.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                // Test mirrors present self-signed certificates.
                lines.Add("  skip_verify = true");
            }
        }
        var folder = Path.Combine(HostsDirectory, registryHost);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "hosts.toml"), string.Join('\n', lines) + "\n");
    }

    /// <summary><c>ctr images pull --hosts-dir</c>, unpacked into overlayfs; returns how long it took. Throws with ctr's and containerd's output on failure.</summary>
    public async Task<TimeSpan> PullAsync(string reference, string? userAndPassword = null, string? platform = null, CancellationToken cancellationToken = default)
    {
        var arguments = new List<string> { "images", "pull", "--hosts-dir", HostsDirectory };
        if (userAndPassword is not null)
        {
            arguments.AddRange(["--user", userAndPassword]);
        }
        if (platform is not null)
        {
            arguments.AddRange(["--platform", platform]);
        }
        arguments.Add(reference);
        var run = await CtrAsync(DefaultNamespace, arguments, PullTimeout, cancellationToken);
        EnsureSucceeded(run, $"pull of {reference}");
        return run.Elapsed;
    }

    /// <summary>
    /// Removes the image and then every content blob left in the namespace, so that the next pull of anything
    /// fetches every blob again instead of finding it in containerd's content store.
    /// </summary>
    public async Task RemoveImageAsync(string reference, string @namespace = DefaultNamespace, CancellationToken cancellationToken = default)
    {
        var remove = await CtrAsync(@namespace, ["images", "rm", "--sync", reference], TimeSpan.FromMinutes(1), cancellationToken);
        if (!remove.Succeeded && !remove.Stderr.Contains("not found", StringComparison.OrdinalIgnoreCase))
        {
            EnsureSucceeded(remove, $"removal of {reference}");
        }
        await RemoveAllContentAsync(@namespace, cancellationToken);
    }

    /// <summary>The digests of the blobs in the namespace's content store.</summary>
    public async Task<IReadOnlyList<string>> ContentDigestsAsync(string @namespace = DefaultNamespace, CancellationToken cancellationToken = default)
    {
        var list = await CtrAsync(@namespace, ["content", "ls", "-q"], TimeSpan.FromMinutes(1), cancellationToken);
        EnsureSucceeded(list, "content listing");
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The image names ctr lists in the namespace.</summary>
    public async Task<IReadOnlyList<string>> ImageNamesAsync(string @namespace = DefaultNamespace, CancellationToken cancellationToken = default)
    {
        var list = await CtrAsync(@namespace, ["images", "ls", "-q"], TimeSpan.FromMinutes(1), cancellationToken);
        EnsureSucceeded(list, "image listing");
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>PullImage through the CRI, exactly as the kubelet asks; returns the image ref containerd answers (the image ID).</summary>
    public async Task<string> CriPullAsync(string reference, AuthConfig? auth = null, CancellationToken cancellationToken = default)
    {
        var request = new PullImageRequest { Image = new ImageSpec { Image = reference } };
        if (auth is not null)
        {
            request.Auth = auth;
        }
        try
        {
            var response = await Images().PullImageAsync(request, deadline: DateTime.UtcNow + PullTimeout, cancellationToken: cancellationToken);
            return response.ImageRef;
        }
        catch (RpcException e)
        {
            throw new InvalidOperationException($"CRI PullImage of {reference} failed: {e.Status}\n{LogTail()}", e);
        }
    }

    /// <summary>ImageStatus through the CRI: the image, or null when containerd does not have it.</summary>
    public async Task<Image?> CriImageStatusAsync(string reference, CancellationToken cancellationToken = default)
    {
        var response = await Images().ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken);
        return response.Image;
    }

    /// <summary>RemoveImage through the CRI, then the blobs left in the CRI namespace, so the next CRI pull fetches everything again.</summary>
    public async Task CriRemoveAsync(string reference, CancellationToken cancellationToken = default)
    {
        await Images().RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken);
        await RemoveAllContentAsync(CriNamespace, cancellationToken);
    }

    public ImageService.ImageServiceClient Images()
    {
        _channel ??= GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // The kubelet dials the runtime's Unix socket; the authority is a placeholder.
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
        });
        return new ImageService.ImageServiceClient(_channel);
    }

    public string LogTail(int lines = 60) => $"--- containerd log tail ({LogPath})\n{_output.Tail(lines)}";

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(10));
            await _process.DisposeAsync();
        }
        _output.Dispose();
        MountTable.UnmountUnder(_folder.Path);
        _folder.Dispose();
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var command = InMachine(RequiredTools.Containerd, ["--config", ConfigPath, "--log-level", "info"]);
        _process = ChildProcess.Start(command[0], command[1..], _output);
        var clock = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            var booted = _output.WaitForLineAsync(l => l.Text.Contains("containerd successfully booted", StringComparison.Ordinal), timeout.Token);
            if (await Task.WhenAny(booted, _process.Exited) != booted)
            {
                await _process.DrainOutputAsync(TimeSpan.FromSeconds(2));
                throw new InvalidOperationException($"containerd exited with code {await _process.Exited} while starting\n{LogTail()}");
            }
            await booted;
            // The CRI plugin finishes initializing after boot; until then it answers "server is not initialized yet".
            while (true)
            {
                try
                {
                    await Images().ListImagesAsync(new ListImagesRequest(), cancellationToken: timeout.Token);
                    return;
                }
                catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
                {
                    await Task.Delay(50, timeout.Token);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"containerd did not become ready within {clock.Elapsed}\n{LogTail()}");
        }
    }

    /// <summary><c>ctr images import</c> of an OCI archive, its tags named <c>&lt;baseName&gt;:&lt;tag&gt;</c>, and unpacked for running.</summary>
    public async Task ImportAsync(string archive, string baseName, string @namespace = DefaultNamespace, CancellationToken cancellationToken = default)
    {
        var import = await CtrAsync(@namespace, ["images", "import", "--base-name", baseName, archive], PullTimeout, cancellationToken);
        EnsureSucceeded(import, $"import of {archive}");
    }

    /// <summary>ctr against this containerd, in <paramref name="namespace"/>; its exit code is the caller's to judge.</summary>
    internal Task<ToolRun> CtrAsync(string @namespace, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var command = CtrCommand(@namespace, arguments);
        return ToolRun.RunAsync(command[0], command[1..], timeout, cancellationToken);
    }

    /// <summary>The command line of ctr against this containerd (in its machine, when it runs in one), for a caller that runs it itself.</summary>
    internal string[] CtrCommand(string @namespace, IEnumerable<string> arguments) =>
        InMachine(_ctr, ["--address", SocketPath, "--namespace", @namespace, .. arguments]);

    private string[] InMachine(string fileName, string[] arguments) =>
        _machine is null ? [fileName, .. arguments] : [.. _machine.Command(fileName, arguments)];

    private async Task RemoveAllContentAsync(string @namespace, CancellationToken cancellationToken)
    {
        var digests = await ContentDigestsAsync(@namespace, cancellationToken);
        if (digests.Count == 0)
        {
            return;
        }
        var remove = await CtrAsync(@namespace, ["content", "rm", .. digests], TimeSpan.FromMinutes(1), cancellationToken);
        EnsureSucceeded(remove, "content removal");
    }

    private void EnsureSucceeded(ToolRun run, string what)
    {
        if (!run.Succeeded)
        {
            throw new InvalidOperationException(
                $"{what} failed with exit code {run.ExitCode} after {run.Elapsed}\n$ {run.CommandLine}\n--- stdout\n{Tail(run.Stdout)}\n--- stderr\n{run.Stderr}\n{LogTail()}");
        }
    }

    // ctr's progress output repeats the same table; the end of it is what matters.
    private static string Tail(string text, int lines = 30) =>
        string.Join('\n', text.Split('\n').TakeLast(lines));

    private string Config() => $"""
        version = 2
        root = "{Root}"
        state = "{State}"

        [grpc]
          address = "{SocketPath}"

        [ttrpc]
          address = "{SocketPath}.ttrpc"

        [plugins."io.containerd.internal.v1.opt"]
          path = "{_folder.Combine("opt")}"

        [plugins."io.containerd.grpc.v1.cri"]
          disable_tcp_service = true
          stream_server_address = "127.0.0.1"
          stream_server_port = "0"

          [plugins."io.containerd.grpc.v1.cri".containerd]
            snapshotter = "overlayfs"

          [plugins."io.containerd.grpc.v1.cri".registry]
            config_path = "{HostsDirectory}"

          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "{_folder.Combine("cni/bin")}"
            conf_dir = "{_folder.Combine("cni/net.d")}"
        """;
}
