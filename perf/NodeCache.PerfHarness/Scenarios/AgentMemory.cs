using NodeCache.PerfHarness.Measurement;
using NodeCache.PerfHarness.Peers;
using NodeCache.PerfHarness.Report;

namespace NodeCache.PerfHarness.Scenarios;

/// <summary>
/// Resident memory at the end of the run. VmHWM is the kernel's high-water mark since the process started, so the
/// agent's covers every scenario it served; the registry proxy's is there for scale.
/// </summary>
internal static class AgentMemory
{
    public const string Name = "memory";
    public const string Case = "whole run";
    public const string Peak = "peak RSS (VmHWM)";

    /// <summary>Starts the table; <see cref="AfterScenario"/> adds the agent's high-water mark as each scenario ends.</summary>
    public static ScenarioResult Start() =>
        new(Name, "Resident memory (the agent that served every scenario but the containerd pulls; VmHWM after each scenario shows which one raised it)", [Peer.Agent, Peer.RegistryProxy]);

    public static void AfterScenario(ScenarioResult result, Testbed bed, string scenario)
    {
        var memory = ProcessMemory.Of(bed.Agent.Pid);
        result.Add($"after {scenario}", Peer.Agent, Peak, "MiB", memory.PeakBytes / 1048576.0);
        bed.Progress($"agent memory after {scenario}: peak {memory.PeakBytes / 1048576.0:F0} MiB, now {memory.CurrentBytes / 1048576.0:F0} MiB");
    }

    public static ScenarioResult Measure(ScenarioResult result, Testbed bed)
    {
        foreach (var (name, pid) in new[] { (Peer.Agent, bed.Agent.Pid), (Peer.RegistryProxy, bed.RegistryProxy.Pid) })
        {
            var memory = ProcessMemory.Of(pid);
            result.Add(Case, name, Peak, "MiB", memory.PeakBytes / 1048576.0);
            result.Add(Case, name, "RSS at the end", "MiB", memory.CurrentBytes / 1048576.0);
        }
        return result;
    }
}
