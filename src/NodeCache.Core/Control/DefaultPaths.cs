namespace NodeCache.Control;

/// <summary>Where the agent keeps its cache and control socket when not told, so that the agent and the CLI agree without flags.</summary>
public static class DefaultPaths
{
    public const string ControlSocketVariable = "NODECACHE_CONTROL_SOCKET";

    /// <summary><c>$XDG_RUNTIME_DIR/nodecache/control.sock</c> (a per-user runtime folder), else <c>control.sock</c> in the cache folder.</summary>
    public static string ControlSocket(string cacheDir)
    {
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtime)
            ? Path.Combine(cacheDir, "control.sock")
            : Path.Combine(runtime, "nodecache", "control.sock");
    }

    /// <summary>The user's cache folder as the agent defaults to it: <c>$XDG_CACHE_HOME/nodecache</c> or <c>~/.cache/nodecache</c>.</summary>
    public static string CacheDir()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "nodecache");
    }
}
