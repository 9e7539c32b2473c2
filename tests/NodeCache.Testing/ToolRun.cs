using System.Diagnostics;

namespace NodeCache.Testing;

/// <summary>One run of a command-line tool (ctr, say) to completion, with its output and how long it took.</summary>
public sealed record ToolRun(string CommandLine, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;

    public static Task<ToolRun> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RunAsync(fileName, arguments, null, timeout, cancellationToken);

    /// <summary>Runs the tool to completion; <paramref name="standardInput"/>, when given, is written to its stdin, which is then closed.</summary>
    public static async Task<ToolRun> RunAsync(
        string fileName, IEnumerable<string> arguments, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var commandLine = fileName + " " + string.Join(' ', info.ArgumentList);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {commandLine}");
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), deadline.Token);
                process.StandardInput.Close();
            }
            await process.WaitForExitAsync(deadline.Token);
            await Task.WhenAll(stdout, stderr);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} did not finish within {timeout}");
        }
        return new ToolRun(commandLine, process.ExitCode, await stdout, await stderr, clock.Elapsed);
    }

    /// <summary>This run, or an exception carrying everything it printed.</summary>
    public ToolRun EnsureSucceeded(string? what = null)
    {
        if (!Succeeded)
        {
            throw new InvalidOperationException(
                $"{what ?? CommandLine} failed with exit code {ExitCode}\n$ {CommandLine}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
        }
        return this;
    }
}
