namespace NodeCache.Testing.Cluster;

/// <summary>How the agents of a simulated cluster find each other, if at all.</summary>
public enum PeeringMode
{
    /// <summary>No peer flags: every agent fills from Harbor alone.</summary>
    Off,

    /// <summary><c>--peers</c> with every started agent's peer URL, its own included.</summary>
    StaticList,

    /// <summary><c>--peers-service</c>: the DaemonSet's EndpointSlices on the fake API server.</summary>
    Service,
}
