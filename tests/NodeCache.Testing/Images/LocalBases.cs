using System.Security.Cryptography;
using System.Text;

namespace NodeCache.Testing.Images;

/// <summary>
/// The Dockerfile's two base images as <c>tools/image/local-bases</c> builds them from Debian packages and this machine's
/// .NET SDK: an OCI layout with the tags <c>sdk</c> and <c>runtime-deps</c>. Building them takes minutes, so they are
/// kept between test runs in a cache folder named after everything they are built from (the script, the apt sources,
/// the SDK, the extra CAs); a change to any of these builds them again.
/// </summary>
public static class LocalBases
{
    public const string SdkTag = "sdk";
    public const string RuntimeDepsTag = "runtime-deps";

    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(20);
    private static readonly SemaphoreSlim InProcess = new(1, 1);

    /// <summary>Where the script lives in the repository.</summary>
    public static string ScriptPath => Path.Combine(Helm.RepositoryRoot, "tools", "image", "local-bases");

    /// <summary>
    /// <c>/var/cache/nodecache-tests</c>: kept between runs, shared by every checkout. No folder on the way may start with
    /// a dot: buildah names its build container after the base's path, and such a name is not a valid image name.
    /// </summary>
    public const string CacheRoot = "/var/cache/nodecache-tests";

    /// <summary>The layout's folder, built first when the cache has none for today's inputs.</summary>
    public static async Task<string> EnsureAsync(CancellationToken cancellationToken = default)
    {
        RequiredTools.RequireRoot("building the base images (mmdebstrap, chroot)");
        var folder = Path.Combine(CacheRoot, "local-bases");
        Directory.CreateDirectory(folder);
        var layout = Path.Combine(folder, await KeyAsync(cancellationToken));
        await InProcess.WaitAsync(cancellationToken);
        try
        {
            // Another checkout's test run may be building the same bases: one builds, the others wait for it.
            using var exclusive = await CacheLock.AcquireAsync(Path.Combine(folder, ".lock"), cancellationToken);
            if (File.Exists(Path.Combine(layout, "index.json")))
            {
                return layout;
            }
            var building = layout + ".building";
            if (Directory.Exists(building))
            {
                Directory.Delete(building, recursive: true);
            }
            var run = await ToolRun.RunAsync(ScriptPath, [building], BuildTimeout, cancellationToken);
            run.EnsureSucceeded("tools/image/local-bases");
            // Older keys are bases nothing builds from any more.
            foreach (var stale in Directory.EnumerateDirectories(folder).Where(d => d != building).ToList())
            {
                Directory.Delete(stale, recursive: true);
            }
            Directory.Move(building, layout);
            return layout;
        }
        finally
        {
            InProcess.Release();
        }
    }

    // The script's default Debian sources when this machine has them (else it uses deb.debian.org).
    private const string DebianSources = "/etc/apt/sources.list.d/debian.sources";

    private static async Task<string> KeyAsync(CancellationToken cancellationToken)
    {
        var inputs = new StringBuilder();
        inputs.Append(await File.ReadAllTextAsync(ScriptPath, cancellationToken));
        if (File.Exists(DebianSources))
        {
            inputs.Append(await File.ReadAllTextAsync(DebianSources, cancellationToken));
        }
        var sdk = await ToolRun.RunAsync(RequiredTools.Find("dotnet"), ["--version"], TimeSpan.FromMinutes(1), cancellationToken);
        inputs.Append(sdk.EnsureSucceeded("dotnet --version").Stdout);
        if (Directory.Exists("/usr/local/share/ca-certificates"))
        {
            foreach (var ca in Directory.EnumerateFiles("/usr/local/share/ca-certificates", "*.crt").Order(StringComparer.Ordinal))
            {
                inputs.Append(await File.ReadAllTextAsync(ca, cancellationToken));
            }
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(inputs.ToString())))[..16];
    }
}
