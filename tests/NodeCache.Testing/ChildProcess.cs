using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NodeCache.Testing;

/// <summary>
/// One external process a fixture started: output captured, stopped by its own PID (SIGTERM, then SIGKILL to the
/// whole tree), never by name, so parallel fixtures and anything else on the machine are left alone.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private const int SigInt = 2;
    private const int SigKill = 9;
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;

    private ChildProcess(Process process, CapturedOutput output, string commandLine)
    {
        _process = process;
        Output = output;
        CommandLine = commandLine;
    }

    public int Pid { get; private set; }

    public string CommandLine { get; }

    public CapturedOutput Output { get; }

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Completes with the exit code when the process ends; never waits for pipes that grandchildren may hold open.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>
    /// Waits until the process's stdout and stderr reached end of file, so its last words (a fatal error printed just
    /// before exiting) are in <see cref="Output"/>. Gives up after <paramref name="timeout"/>: a grandchild may hold
    /// the pipes open.
    /// </summary>
    public async Task DrainOutputAsync(TimeSpan timeout)
    {
        try
        {
            await _outputClosed.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            // Whatever arrived is what there is.
        }
    }

    /// <summary>
    /// Starts the process with its output going to <paramref name="output"/>, which the caller owns: a fixture that
    /// restarts its process passes the same one again, so the log runs on across restarts.
    /// </summary>
    public static ChildProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        CapturedOutput output,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, output, fileName + " " + string.Join(' ', info.ArgumentList));
        process.OutputDataReceived += (_, e) => child.Receive(OutputStream.Stdout, e.Data);
        process.ErrorDataReceived += (_, e) => child.Receive(OutputStream.Stderr, e.Data);
        process.Exited += (_, _) =>
        {
            RemoveRuntimeIpcFiles(process.Id);
            child._exited.TrySetResult(SafeExitCode(process));
        };
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {child.CommandLine}");
        }
        child.Pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Nothing is ever typed into a child; closing stdin keeps one that reads it from waiting forever.
        process.StandardInput.Close();
        return child;
    }

    /// <summary>Sends SIGINT, as Ctrl+C at a terminal does, and returns at once.</summary>
    public void Interrupt() => Send(SigInt);

    /// <summary>Sends SIGTERM, as the kubelet or an operator does, and returns at once.</summary>
    public void Terminate() => Send(SigTerm);

    /// <summary>Sends SIGTERM, waits up to <paramref name="grace"/>, then SIGKILLs the process and its descendants.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!HasExited)
        {
            Terminate();
            try
            {
                await _exited.Task.WaitAsync(grace);
            }
            catch (TimeoutException)
            {
                Kill();
            }
        }
        // Children of a process that exited cleanly (containerd's shims, say) would outlive it otherwise.
        KillTree();
        return await _exited.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGKILL to the process and everything it started, as a crash or the OOM killer would.</summary>
    public void Kill()
    {
        Send(SigKill);
        KillTree();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private void Receive(OutputStream stream, string? line)
    {
        if (line is not null)
        {
            Output.Add(stream, line);
        }
        else if (Interlocked.Decrement(ref _openStreams) == 0)
        {
            _outputClosed.TrySetResult();
        }
    }

    private void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing left to kill.
        }
    }

    /// <summary>
    /// The .NET runtime's debugger pipes and diagnostics socket of the process <paramref name="pid"/>, in the temp folder.
    /// A .NET child (the agent, the CLI) that exits removes them itself; one that is killed cannot.
    /// </summary>
    public static IEnumerable<string> RuntimeIpcFiles(int pid) =>
        Directory.EnumerateFiles(Path.GetTempPath(), $"clr-debug-pipe-{pid}-*")
            .Concat(Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{pid}-*"));

    private void Send(int signal)
    {
        if (!HasExited)
        {
            _ = SendSignal(Pid, signal);
        }
    }

    // Removed whether the child exited or was killed; for a child that is not .NET the names match nothing.
    private static void RemoveRuntimeIpcFiles(int pid)
    {
        foreach (var path in RuntimeIpcFiles(pid).ToList())
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or not ours to delete: nothing to clean.
            }
        }
    }

    private static int SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
