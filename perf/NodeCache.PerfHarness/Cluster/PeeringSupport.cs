using NodeCache.Testing;

namespace NodeCache.PerfHarness.Cluster;

/// <summary>Whether the agent built beside the harness takes the peer flags: its <c>--help</c> lists <c>--peer-listen</c>.</summary>
internal static class PeeringSupport
{
    public static async Task<bool> DetectAsync(CancellationToken cancellationToken)
    {
        var help = await BuildOutput.RunAsync(AgentProcess.AssemblyPath, ["--help"], TimeSpan.FromMinutes(1), cancellationToken);
        return (help.Stdout + help.Stderr).Contains("--peer-listen", StringComparison.Ordinal);
    }
}
