namespace NodeCache.Testing;

/// <summary>
/// Finds the external programs the fixtures drive. A missing one fails the test with the way to get it: a test
/// that skips for want of containerd would let a broken mirror pass CI unnoticed.
/// </summary>
public static class RequiredTools
{
    // sbin folders are searched too: nginx lives in /usr/sbin and a non-login PATH may lack it.
    private static readonly string[] ExtraFolders = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

    public static string DockerRegistry => Find("docker-registry");

    public static string Containerd => Find("containerd");

    public static string Ctr => Find("ctr");

    public static string Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var folder in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraFolders))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"{name} not found: run tests/run, which installs it");
    }

    /// <summary>containerd mounts overlay filesystems and owns its sockets: without root it cannot start at all.</summary>
    public static void RequireRoot(string what)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException($"{what} needs root: run the tests as root (CI does)");
        }
    }
}
