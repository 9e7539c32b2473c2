namespace NodeCache.Testing.Cluster;

/// <summary>
/// Runs iproute2 (<c>ip</c>, <c>tc</c>) and <c>iptables</c> to build and change the simulated cluster's network. A command
/// that must work throws with its output; teardown uses <see cref="TryRunAsync"/>, which reports instead of throwing, so
/// one missing link does not keep the rest from being removed.
/// </summary>
internal static class NetworkCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<string> RunAsync(string tool, params string[] arguments)
    {
        var run = await ToolRun.RunAsync(RequiredTools.Find(tool), arguments, Timeout);
        return run.EnsureSucceeded().Stdout;
    }

    /// <summary>Runs the command; returns null when it succeeded, else what it printed on stderr.</summary>
    public static async Task<string?> TryRunAsync(string tool, params string[] arguments)
    {
        var run = await ToolRun.RunAsync(RequiredTools.Find(tool), arguments, Timeout);
        return run.Succeeded ? null : $"{run.CommandLine}: {run.Stderr.Trim()}";
    }
}
