namespace NodeCache.Testing;

/// <summary>The real skopeo, talking to a registry (or the agent) on loopback over plain HTTP, as a user at a shell would.</summary>
public static class Skopeo
{
    // A copy of a few small images takes about a second; a minute means it hangs.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary><c>docker://HOST:PORT/REPOSITORY:TAG</c> for a registry API served over plain HTTP on loopback.</summary>
    public static string Docker(string hostPort, string repositoryAndReference) => $"docker://{hostPort}/{repositoryAndReference}";

    /// <summary><c>skopeo inspect</c> of an image, trusting a plain-HTTP registry.</summary>
    public static Task<ToolRun> InspectAsync(string image, CancellationToken cancellationToken = default) =>
        RunAsync(["inspect", "--tls-verify=false", image], cancellationToken);

    /// <summary><c>skopeo copy</c> with plain HTTP allowed on both sides that are registries.</summary>
    public static Task<ToolRun> CopyAsync(string source, string destination, IEnumerable<string>? options = null, CancellationToken cancellationToken = default) =>
        RunAsync(["copy", "--src-tls-verify=false", "--dest-tls-verify=false", .. options ?? [], source, destination], cancellationToken);

    public static Task<ToolRun> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        ToolRun.RunAsync("skopeo", arguments, Timeout, cancellationToken);
}
