using System.Diagnostics;
using NodeCache.PerfHarness.Measurement;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster;

/// <summary>
/// CPU time of everything the simulated cluster runs: every agent, containerd, Harbor, and this process (the nodes' HTTP
/// clients, the API server, the probes), by PID. Against a rollout's wall time it says how much of the two cores the
/// rollout took. An agent killed during the rollout takes its share with it.
/// </summary>
internal sealed class ClusterCpu
{
    private readonly Dictionary<int, double> _agents;
    private readonly double _rest;

    private ClusterCpu(Dictionary<int, double> agents, double rest)
    {
        _agents = agents;
        _rest = rest;
    }

    public static ClusterCpu Sample(SimulatedCluster cluster)
    {
        var agents = cluster.Nodes.Select(n => n.Agent).OfType<NodeCache.Testing.AgentProcess>().Where(a => !a.HasExited)
            .ToDictionary(a => a.Pid, a => ProcessCpu.Of(a.Pid).TotalSeconds);
        using var self = Process.GetCurrentProcess();
        var rest = self.TotalProcessorTime.TotalSeconds + ProcessCpu.Of(cluster.Harbor.Pid).TotalSeconds
            + cluster.Nodes.Select(n => n.Containerd).OfType<NodeCache.Testing.ContainerdProcess>().Sum(c => ProcessCpu.Of(c.Pid).TotalSeconds);
        return new ClusterCpu(agents, rest);
    }

    /// <summary>CPU seconds of the agents, and of everything else, from <paramref name="before"/> to this sample.</summary>
    public (double Agents, double Others) Since(ClusterCpu before) =>
        (_agents.Sum(a => a.Value - before._agents.GetValueOrDefault(a.Key)), _rest - before._rest);
}
