namespace NodeCache.Testing;

/// <summary>
/// The real <c>nodecache</c> CLI as a separate process, the way an operator runs it on a node: from its own build output
/// (the test project references the CLI project, so it is built first), whose dependencies are its own and not the tests'.
/// </summary>
public static class NodeCacheCli
{
    public const string AssemblyName = "nodecache";

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary><c>src/NodeCache.Cli/bin/&lt;configuration&gt;/&lt;framework&gt;/nodecache.dll</c>, in the configuration the tests were built in.</summary>
    public static string AssemblyPath { get; } = BuildOutput.AssemblyPath("src/NodeCache.Cli", AssemblyName);

    /// <summary>One run to completion; its exit code and output are the caller's to judge.</summary>
    public static Task<ToolRun> RunAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        BuildOutput.RunAsync(AssemblyPath, arguments, timeout ?? DefaultTimeout, cancellationToken);

    /// <summary>
    /// A run in a pseudo-terminal (util-linux <c>script</c>), as an operator at a shell sees it: live progress bars and
    /// colours instead of the plain lines a pipe gets. Its stdout is what the terminal showed, escape sequences included.
    /// </summary>
    public static Task<ToolRun> RunInTerminalAsync(AgentProcess agent, params string[] arguments) =>
        RunInTerminalAsync(["--agent", agent.ControlSocket, .. arguments]);

    /// <summary>A run in a pseudo-terminal of a command that needs no agent (a cluster-wide prewarm).</summary>
    public static Task<ToolRun> RunInTerminalAsync(IEnumerable<string> arguments)
    {
        var command = string.Join(' ', new[] { AgentProcess.DotnetHost(), "exec", AssemblyPath }.Concat(arguments).Select(Quote));
        return ToolRun.RunAsync(RequiredTools.Find("script"), ["--quiet", "--return", "--command", $"env TERM=xterm-256color COLUMNS=120 LINES=40 {command}", "/dev/null"], DefaultTimeout);
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Starts a long-running command (<c>pulls --watch</c>) against <paramref name="agent"/>; its output goes to <paramref name="output"/>.</summary>
    public static ChildProcess Start(AgentProcess agent, CapturedOutput output, params string[] arguments) =>
        Start(output, ["--agent", agent.ControlSocket, .. arguments]);

    /// <summary>
    /// Starts a command against <paramref name="agent"/> as a shell's foreground job, with SIGINT at its default disposition:
    /// a test run that is itself a background job of a non-interactive shell ignores SIGINT, and its children inherit that.
    /// </summary>
    public static ChildProcess StartInForeground(AgentProcess agent, CapturedOutput output, params string[] arguments) =>
        ChildProcess.Start(RequiredTools.Find("env"), ["--default-signal=INT", AgentProcess.DotnetHost(), "exec", AssemblyPath, "--agent", agent.ControlSocket, .. arguments], output);

    /// <summary>Starts a long-running command that needs no agent (<c>containerd hosts --until-stopped</c>).</summary>
    public static ChildProcess Start(CapturedOutput output, params string[] arguments) =>
        ChildProcess.Start(AgentProcess.DotnetHost(), ["exec", AssemblyPath, .. arguments], output);

    /// <summary>A run against <paramref name="agent"/>'s control socket.</summary>
    public static Task<ToolRun> RunAsync(AgentProcess agent, params string[] arguments) =>
        RunAsync(["--agent", agent.ControlSocket, .. arguments]);
}
