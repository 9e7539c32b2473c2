namespace NodeCache.Testing.Images;

/// <summary>
/// Debian's <c>buildah</c> as root with the vfs storage driver and chroot isolation: no overlay mounts, no user namespaces
/// and no daemon, so it builds wherever the tests run. Its storage is a temp folder of its own, deleted on dispose.
/// </summary>
public sealed class Buildah : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    private readonly TempFolder _storage;
    private readonly string _binary;

    private Buildah(TempFolder storage)
    {
        _storage = storage;
        _binary = RequiredTools.Find("buildah");
    }

    public static Buildah Create()
    {
        RequiredTools.RequireRoot("buildah with vfs storage and chroot isolation");
        return new Buildah(TempFolder.Create("buildah"));
    }

    /// <summary>
    /// <c>buildah build</c> of <paramref name="context"/>'s Dockerfile into <paramref name="tag"/>, with build arguments and
    /// folders of this machine mounted into its RUN steps (a package cache, say).
    /// </summary>
    public async Task<ToolRun> BuildAsync(
        string context, string tag, IReadOnlyDictionary<string, string> buildArgs, IReadOnlyDictionary<string, string> volumes,
        CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["build", "--isolation", "chroot", "--tag", tag];
        foreach (var (name, value) in buildArgs)
        {
            arguments.AddRange(["--build-arg", $"{name}={value}"]);
        }
        foreach (var (host, container) in volumes)
        {
            arguments.AddRange(["--volume", $"{host}:{container}"]);
        }
        arguments.Add(context);
        return (await RunAsync(arguments, cancellationToken)).EnsureSucceeded($"buildah build of {context}");
    }

    /// <summary><c>buildah push</c>: the image, layers gzip-compressed as a registry would get them, to <paramref name="destination"/> (e.g. <c>oci:DIR:TAG</c>).</summary>
    public async Task PushAsync(string tag, string destination, CancellationToken cancellationToken = default) =>
        (await RunAsync(["push", tag, destination], cancellationToken)).EnsureSucceeded($"buildah push of {tag}");

    public void Dispose() => _storage.Dispose();

    private Task<ToolRun> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ToolRun.RunAsync(_binary,
            ["--storage-driver", "vfs", "--root", _storage.Combine("root", create: true), "--runroot", _storage.Combine("run", create: true), .. arguments],
            Timeout, cancellationToken);
}
