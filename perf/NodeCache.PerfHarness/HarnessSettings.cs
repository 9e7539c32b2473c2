using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness;

/// <summary>How big and how long each scenario is: the full run gives the figures, <c>--quick</c> a check in a few minutes.</summary>
internal sealed record HarnessSettings
{
    public const string Usage = """
        usage: NodeCache.PerfHarness [--quick] [--results DIR] [--only SCENARIO[,SCENARIO...]]
                                     [--cluster-sizes N[,N...]] [--cluster-faults on|off] [--agent-args "ARG ..."]
          --quick    1 repetition and smaller blobs (about 3-5 minutes); without it 3 repetitions (under 20 minutes)
          --results  where the JSON goes (default: perf/results of the repository this runs from)
          --only     warm, manifests, cold, stampede, pull, cluster (default: all but cluster)
                     cluster: a simulated cluster of network namespaces, 10 and 20 nodes (quick: 3 and 6), peering off
                     and on, and faults; needs root, about 15 minutes (quick: 3)
          --cluster-sizes    the cluster's rollouts at these sizes instead (2 to 60 nodes)
          --cluster-faults   off skips the faults (default on)
          --agent-args       more arguments for every agent of the cluster, to compare settings (e.g. "--peer-uploads 4")
        """;

    public static readonly IReadOnlyList<string> AllScenarios = ["warm", "manifests", "cold", "stampede", "pull", "cluster"];

    /// <summary>The cluster needs root and a quarter of an hour: it runs when asked for by name.</summary>
    private static readonly IReadOnlyList<string> DefaultScenarios = ["warm", "manifests", "cold", "stampede", "pull"];

    public required bool Quick { get; init; }

    public required string ResultsDirectory { get; init; }

    public required IReadOnlySet<string> Scenarios { get; init; }

    /// <summary>Medians need three values to mean anything; the quick run is a smoke check of the whole harness.</summary>
    public int Repetitions => Quick ? 1 : 3;

    public long BigBlobSize => Quick ? 256 * OciImageBuilder.MiB : 1024 * OciImageBuilder.MiB;

    public const int SmallBlobCount = 64;

    public const long SmallBlobSize = 4 * OciImageBuilder.MiB;

    /// <summary>
    /// A warm throughput cell runs whole passes over its blobs until this much time has passed: a 256 MiB blob at loopback
    /// speed takes a fraction of a second, too short to time against the scheduler noise of a shared machine.
    /// </summary>
    public TimeSpan WarmCellDuration => Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(5);

    /// <summary>Bounds a cell whose peer is much faster than expected: 200 passes of a 256 MiB blob is more than this loopback moves in 5 s.</summary>
    public const int WarmCellMaxPasses = 200;

    public TimeSpan WrkDuration => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(10);

    /// <summary>
    /// Unmeasured load before each peer's first manifest run, so JIT and connection setup stay out of the figures. A profile
    /// of the agent under a 1 s warm-up still found much of the measured run in tier-0 and instrumented code: .NET's tiered
    /// compilation promotes hot methods to optimised code over a few seconds of load, which a long-running agent has long done.
    /// </summary>
    public static readonly TimeSpan WrkWarmup = TimeSpan.FromSeconds(5);

    public const int WrkConnections = 64;

    public long ColdBlobSize => Quick ? 128 * OciImageBuilder.MiB : 512 * OciImageBuilder.MiB;

    public const long StampedeBlobSize = 64 * OciImageBuilder.MiB;

    public const int StampedeClients = 50;

    /// <summary>Five layers: about 60 MiB for the quick run, 300 MiB for the full one.</summary>
    public IReadOnlyList<long> PullLayerSizes => Quick
        ? [24 * OciImageBuilder.MiB, 16 * OciImageBuilder.MiB, 12 * OciImageBuilder.MiB, 6 * OciImageBuilder.MiB, 2 * OciImageBuilder.MiB]
        : [120 * OciImageBuilder.MiB, 80 * OciImageBuilder.MiB, 60 * OciImageBuilder.MiB, 30 * OciImageBuilder.MiB, 10 * OciImageBuilder.MiB];

    /// <summary>The cluster sizes of the rollouts, each with peering off and on.</summary>
    public IReadOnlyList<int> ClusterSizes => ChosenClusterSizes ?? (Quick ? [3, 6] : [10, 20]);

    public IReadOnlyList<int>? ChosenClusterSizes { get; init; }

    /// <summary>The faults run after the rollouts, at the first size.</summary>
    public bool ClusterFaults { get; init; } = true;

    /// <summary>Arguments added to every agent of the cluster.</summary>
    public IReadOnlyList<string> ClusterAgentArguments { get; init; } = [];

    /// <summary>
    /// Four layers, 256 MiB (quick: 28 MiB). The layers are gzip'd random bytes: nothing on the path can compress them.
    /// </summary>
    public IReadOnlyList<long> ClusterLayerSizes => Quick
        ? [12 * OciImageBuilder.MiB, 8 * OciImageBuilder.MiB, 6 * OciImageBuilder.MiB, 2 * OciImageBuilder.MiB]
        : [112 * OciImageBuilder.MiB, 80 * OciImageBuilder.MiB, 48 * OciImageBuilder.MiB, 16 * OciImageBuilder.MiB];

    /// <summary>
    /// Each node's link, both ways. Every byte a node receives is copied through the kernel and hashed by its agent and its
    /// client, and with peering most of it is sent on again: 20 nodes at this rate move about 160 MB/s through the two
    /// cores at most, well under what they hash, so links and not the CPU set the pace (the run shows it on one node's pull).
    /// </summary>
    public static readonly LinkShape ClusterNodeLink = LinkShape.Megabits(64);

    /// <summary>Harbor's link: four times a node's, as a registry has a bigger pipe than one node, and not so big that 20 nodes do not queue on it.</summary>
    public static readonly LinkShape ClusterHarborLink = LinkShape.Megabits(256);

    /// <summary>A hard stop for the whole run: a peer that hangs must not keep the machine busy for ever.</summary>
    public TimeSpan Deadline => (Quick ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(45)) + (Runs("cluster") ? TimeSpan.FromMinutes(Quick ? 15 : 45) : TimeSpan.Zero);

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    /// <summary>The settings the arguments ask for, or null when they make no sense.</summary>
    public static HarnessSettings? Parse(IReadOnlyList<string> args)
    {
        var quick = false;
        IReadOnlyList<int>? clusterSizes = null;
        var clusterFaults = true;
        IReadOnlyList<string> agentArguments = [];
        string? results = null;
        IReadOnlySet<string> scenarios = DefaultScenarios.ToHashSet();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--results" when i + 1 < args.Count:
                    results = args[++i];
                    break;
                case "--only" when i + 1 < args.Count:
                    scenarios = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    if (!scenarios.All(AllScenarios.Contains))
                    {
                        return null;
                    }
                    break;
                case "--cluster-sizes" when i + 1 < args.Count:
                    var sizes = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (sizes.Length == 0 || !sizes.All(size => int.TryParse(size, out var n) && n is >= 2 and <= 60))
                    {
                        return null;
                    }
                    clusterSizes = [.. sizes.Select(int.Parse)];
                    break;
                case "--cluster-faults" when i + 1 < args.Count && args[i + 1] is "on" or "off":
                    clusterFaults = args[++i] == "on";
                    break;
                case "--agent-args" when i + 1 < args.Count:
                    agentArguments = args[++i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    break;
                default:
                    return null;
            }
        }
        return new HarnessSettings
        {
            Quick = quick,
            ResultsDirectory = Path.GetFullPath(results ?? Path.Combine(RepositoryRoot(), "perf", "results")),
            Scenarios = scenarios,
            ChosenClusterSizes = clusterSizes,
            ClusterFaults = clusterFaults,
            ClusterAgentArguments = agentArguments,
        };
    }

    // The build lands in perf/NodeCache.PerfHarness/bin/...: the repository is the first folder above it holding the solution.
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "NodeCache.sln")))
            {
                return folder.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
