using System.Globalization;
using System.Text.RegularExpressions;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// Removes what runs that were killed left behind: every namespace and link named after a run tag whose owner process
/// is gone, with the processes still running inside those namespaces (the agents and registries that run started).
/// A run that ends normally removes its own; this covers SIGKILL, a crashed test host and a machine that lost power.
/// </summary>
internal static partial class StaleNetworkSweep
{
    public static async Task RunAsync()
    {
        var live = NetworkOwner.All().Where(o => o.IsAlive).Select(o => o.Tag).ToHashSet(StringComparer.Ordinal);
        var namespaces = (await NetworkCommand.RunAsync("ip", "netns", "list"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0])
            .Where(name => NamespaceName().Match(name) is { Success: true } m && !live.Contains(m.Groups["tag"].Value))
            .ToList();
        var links = (await NetworkCommand.RunAsync("ip", "-o", "link", "show"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3)[1].Trim().Split('@')[0])
            .Where(name => LinkName().Match(name) is { Success: true } m && !live.Contains(m.Groups["tag"].Value))
            .ToList();
        foreach (var name in namespaces)
        {
            await KillProcessesInAsync(name);
            await NetworkCommand.TryRunAsync("ip", "netns", "delete", name);
        }
        // Host ends of veth pairs first (each takes its namespace end with it), the bridges last.
        foreach (var name in links.OrderBy(n => n.EndsWith("br", StringComparison.Ordinal)))
        {
            await NetworkCommand.TryRunAsync("ip", "link", "delete", name);
        }
        foreach (var owner in NetworkOwner.All().Where(o => !o.IsAlive))
        {
            owner.Release();
        }
    }

    /// <summary>SIGKILLs, by PID, each process whose network namespace is <paramref name="name"/>: only a run of this fixture puts processes there.</summary>
    public static async Task KillProcessesInAsync(string name)
    {
        var pids = await NetworkCommand.RunAsync("ip", "netns", "pids", name);
        foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(int.Parse(pid, CultureInfo.InvariantCulture));
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone already.
            }
        }
    }

    [GeneratedRegex($"^{NodeNetwork.Family}(?<tag>[0-9a-z]{{4}})-[0-9]+$")]
    private static partial Regex NamespaceName();

    [GeneratedRegex($"^{NodeNetwork.Family}(?<tag>[0-9a-z]{{4}})(br|h[0-9]+)$")]
    private static partial Regex LinkName();
}
