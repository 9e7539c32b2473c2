namespace NodeCache.Testing.Cluster;

/// <summary>The links and probes of a <see cref="SimulatedCluster"/>.</summary>
public sealed record ClusterOptions
{
    /// <summary>Each node's link, both ways.</summary>
    public LinkShape NodeLink { get; init; } = LinkShape.Megabits(200);

    /// <summary>Harbor's link, both ways.</summary>
    public LinkShape HarborLink { get; init; } = LinkShape.Megabits(400);

    /// <summary>The readiness probe's period; the kubelet's default is 10 s, shortened so tests see endpoints change in time.</summary>
    public TimeSpan ProbePeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Failed probes in a row before an endpoint turns not ready (the kubelet's default, 3).</summary>
    public int ProbeFailureThreshold { get; init; } = 3;

    /// <summary>Endpoints per EndpointSlice: 100 in a real cluster; fewer makes a small cluster span several slices.</summary>
    public int EndpointsPerSlice { get; init; } = 100;

    /// <summary>
    /// Variables every agent's environment gets. By default the .NET thread pool does not spin while it waits for work:
    /// on a real node a spinning agent only burns that node's idle cores, but here twenty agents share two cores, and
    /// their spinning (tens of thousands of sched_yield calls a second during a fill at a node link's pace) took the
    /// CPU the other nodes needed.
    /// </summary>
    public IReadOnlyDictionary<string, string> AgentEnvironment { get; init; } =
        new Dictionary<string, string> { ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0" };

    /// <summary>Arguments every agent gets besides the cluster's own.</summary>
    public IReadOnlyList<string> AgentArguments { get; init; } = [];
}
