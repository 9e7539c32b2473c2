using System.Diagnostics;

namespace NodeCache.Testing;

/// <summary>A bind mount of a host folder into a container.</summary>
public sealed record ContainerMount(string HostPath, string ContainerPath, bool ReadOnly)
{
    public string CtrOption => $"type=bind,src={HostPath},dst={ContainerPath},options=rbind:{(ReadOnly ? "ro" : "rw")}";
}

/// <summary>
/// How a container runs: its process, environment and mounts, and the isolation a pod's security context asks for (the
/// host network, a read-only root, no capabilities, the runtime's seccomp profile; no new privileges is ctr's default).
/// The user comes from the image: ctr 1.6 has no flag for it.
/// </summary>
public sealed record ContainerSpec(
    IReadOnlyList<string> Process,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<ContainerMount> Mounts,
    bool HostNetwork = true,
    bool ReadOnlyRoot = true,
    bool DropAllCapabilities = true,
    bool Seccomp = true);

/// <summary>
/// A container that <c>ctr run</c> runs from an image in a <see cref="ContainerdProcess"/>: its output captured, stopped
/// with a signal through <c>ctr task kill</c> as the kubelet's runtime stops one, and removed on dispose whatever happened.
/// </summary>
public sealed class RunningContainer : IAsyncDisposable
{
    // Every capability the kernel knows: ctr 1.6 drops them by name only ("ALL" is not one of them).
    private static readonly string[] Capabilities =
    [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
        "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
        "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
        "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    ];

    private static readonly TimeSpan CtrTimeout = TimeSpan.FromSeconds(30);

    private readonly ContainerdProcess _containerd;
    private readonly ChildProcess _run;

    private RunningContainer(ContainerdProcess containerd, string id, ChildProcess run)
    {
        _containerd = containerd;
        Id = id;
        _run = run;
    }

    public string Id { get; }

    /// <summary>What the container printed on stdout and stderr.</summary>
    public CapturedOutput Output => _run.Output;

    public bool HasExited => _run.HasExited;

    /// <summary>The container's exit code, once it has exited.</summary>
    public Task<int> Exited => _run.Exited;

    /// <summary>Runs <paramref name="image"/> as container <paramref name="id"/>; returns once ctr started it.</summary>
    public static RunningContainer Start(ContainerdProcess containerd, string image, string id, ContainerSpec spec, CapturedOutput output)
    {
        List<string> arguments = ["run", "--rm"];
        if (spec.HostNetwork)
        {
            arguments.Add("--net-host");
        }
        if (spec.ReadOnlyRoot)
        {
            arguments.Add("--read-only");
        }
        if (spec.Seccomp)
        {
            arguments.Add("--seccomp");
        }
        if (spec.DropAllCapabilities)
        {
            arguments.AddRange(Capabilities.SelectMany(c => new[] { "--cap-drop", "CAP_" + c }));
        }
        foreach (var (name, value) in spec.Environment)
        {
            arguments.AddRange(["--env", $"{name}={value}"]);
        }
        foreach (var mount in spec.Mounts)
        {
            arguments.AddRange(["--mount", mount.CtrOption]);
        }
        arguments.AddRange([image, id, .. spec.Process]);
        var command = containerd.CtrCommand(ContainerdProcess.DefaultNamespace, arguments);
        return new RunningContainer(containerd, id, ChildProcess.Start(command[0], command[1..], output));
    }

    /// <summary>The container's first process as the host sees it (for <c>/proc/&lt;pid&gt;</c>); waits until ctr lists the task running.</summary>
    public async Task<int> HostPidAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var list = await _containerd.CtrAsync(ContainerdProcess.DefaultNamespace, ["tasks", "ls"], CtrTimeout, cancellationToken);
            var row = list.Stdout.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .FirstOrDefault(c => c.Length >= 3 && c[0] == Id && c[2] == "RUNNING");
            if (row is not null)
            {
                return int.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            if (_run.HasExited || clock.Elapsed > CtrTimeout)
            {
                throw new InvalidOperationException($"container {Id} is not running\n{list.Stdout}\n--- its output\n{Output.Tail(40)}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary><c>ctr task exec</c>: another process in the running container, as <c>kubectl exec</c> starts one.</summary>
    public Task<ToolRun> ExecAsync(string execId, IEnumerable<string> process, CancellationToken cancellationToken = default) =>
        _containerd.CtrAsync(ContainerdProcess.DefaultNamespace, ["tasks", "exec", "--exec-id", execId, Id, .. process], TimeSpan.FromMinutes(1), cancellationToken);

    /// <summary>SIGTERM through <c>ctr task kill</c>, as the kubelet stops a container; returns the exit code once it exited.</summary>
    public async Task<int> StopAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        await SignalAsync("SIGTERM", cancellationToken);
        return await _run.Exited.WaitAsync(grace, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_run.HasExited)
        {
            await SignalAsync("SIGKILL", CancellationToken.None);
            try
            {
                await _run.Exited.WaitAsync(CtrTimeout);
            }
            catch (TimeoutException)
            {
                // ctr itself is stuck: it is killed below, and the task and container removed by hand.
            }
        }
        await _run.DisposeAsync();
        // ctr run --rm removes the container when it sees the task exit; when ctr was killed first, it is done here.
        await _containerd.CtrAsync(ContainerdProcess.DefaultNamespace, ["tasks", "delete", "--force", Id], CtrTimeout, CancellationToken.None);
        await _containerd.CtrAsync(ContainerdProcess.DefaultNamespace, ["containers", "delete", Id], CtrTimeout, CancellationToken.None);
    }

    private Task<ToolRun> SignalAsync(string signal, CancellationToken cancellationToken) =>
        _containerd.CtrAsync(ContainerdProcess.DefaultNamespace, ["tasks", "kill", "--signal", signal, Id], CtrTimeout, cancellationToken);
}
