namespace NodeCache.Cli;

/// <summary>The CLI's exit codes: each failure a script may want to tell apart has its own.</summary>
internal enum ExitCode
{
    Ok = 0,
    /// <summary>The agent or the upstream failed to do what was asked.</summary>
    Failed = 1,
    /// <summary>The command line is wrong.</summary>
    Usage = 2,
    /// <summary>No agent answers on the control socket.</summary>
    AgentNotRunning = 3,
    /// <summary>An image reference or digest does not parse.</summary>
    BadReference = 4,
    /// <summary>The upstream has no such image, or no upstream serves its registry.</summary>
    NotFound = 5,
    /// <summary>This agent does not offer the operation.</summary>
    Unsupported = 6,
    /// <summary>The Kubernetes API cannot be reached, or refuses (no kubeconfig, RBAC).</summary>
    ClusterUnavailable = 7,
    /// <summary>Not every selected node reported within <c>--timeout</c>.</summary>
    TimedOut = 8,
    /// <summary>The agent kept what was asked to be evicted: it is pinned, kept for a pod, or being served.</summary>
    Refused = 9,
    /// <summary>An archive to import cannot be read or fails a digest check: nothing was imported.</summary>
    BadArchive = 10,
    /// <summary>SIGINT (Ctrl+C) or SIGTERM stopped the command before it finished: 128 + SIGINT, as a shell reports an interrupted command.</summary>
    Stopped = 130,
}
