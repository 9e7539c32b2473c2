namespace NodeCache.Cli;

/// <summary>A failure the CLI reports as one line on stderr and its exit code.</summary>
internal sealed class CliFailure(ExitCode code, string message) : Exception(message)
{
    public ExitCode Code { get; } = code;
}
