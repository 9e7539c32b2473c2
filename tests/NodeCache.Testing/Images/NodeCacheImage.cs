using System.Formats.Tar;

namespace NodeCache.Testing.Images;

/// <summary>
/// The repository's Dockerfile built by buildah onto the local bases (<see cref="LocalBases"/>), pushed gzip-compressed
/// into an OCI layout in a temp folder: the image the chart deploys, as a registry would hold it.
/// </summary>
public sealed class NodeCacheImage : IDisposable
{
    /// <summary>The name the image gets in containerd: <c>localhost/nodecache-agent:&lt;tag&gt;</c>.</summary>
    public const string Repository = "localhost/nodecache-agent";

    /// <summary>The tag of the image as built.</summary>
    public const string Tag = "test";

    private readonly TempFolder _folder;

    private NodeCacheImage(TempFolder folder)
    {
        _folder = folder;
        LayoutPath = folder.Combine("layout");
    }

    /// <summary>The OCI layout holding <see cref="Tag"/> and the tags <see cref="RetagWithUserAsync"/> adds.</summary>
    public string LayoutPath { get; }

    public OciLayoutImage Image => OciLayoutImage.Read(LayoutPath, Tag);

    /// <summary>
    /// Builds the Dockerfile with the local bases as its <c>SDK_IMAGE</c> and <c>RUNTIME_IMAGE</c>. The build is kept in
    /// the cache folder under the hash of its inputs (the bases and every file of the build context), so a run on the
    /// same tree reuses it; any change to them builds again.
    /// </summary>
    public static async Task<NodeCacheImage> BuildAsync(CancellationToken cancellationToken = default)
    {
        var bases = await LocalBases.EnsureAsync(cancellationToken);
        var image = new NodeCacheImage(TempFolder.Create("image"));
        try
        {
            var images = Path.Combine(LocalBases.CacheRoot, "images");
            var cached = Path.Combine(images, await BuildContext.KeyAsync(Helm.RepositoryRoot, bases, cancellationToken));
            using (await CacheLock.AcquireAsync(images + ".lock", cancellationToken))
            {
                if (!File.Exists(Path.Combine(cached, "index.json")))
                {
                    await BuildIntoAsync(bases, cached, cancellationToken);
                }
                CopyFolder(cached, image.LayoutPath);
            }
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The image again under <paramref name="tag"/>, its config's user set to <paramref name="user"/> (<c>uid:gid</c>) and
    /// nothing else changed: what the kubelet makes of a pod's <c>runAsUser</c>/<c>runAsGroup</c>, for runtimes (ctr 1.6)
    /// that take the user from the image alone.
    /// </summary>
    public async Task RetagWithUserAsync(string tag, string user, CancellationToken cancellationToken = default) =>
        (await ToolRun.RunAsync(RequiredTools.Find("umoci"),
            ["config", "--image", $"{LayoutPath}:{Tag}", "--tag", tag, "--config.user", user, "--history.created_by", $"runAsUser {user}"],
            TimeSpan.FromMinutes(2), cancellationToken)).EnsureSucceeded("umoci config");

    /// <summary>The layout as one tar archive, as <c>ctr images import</c> reads it.</summary>
    public async Task<string> ArchiveAsync(CancellationToken cancellationToken = default)
    {
        var archive = _folder.Combine("image.tar");
        await TarFile.CreateFromDirectoryAsync(LayoutPath, archive, includeBaseDirectory: false, cancellationToken);
        return archive;
    }

    public void Dispose() => _folder.Dispose();

    private static async Task BuildIntoAsync(string bases, string layout, CancellationToken cancellationToken)
    {
        using var buildah = Buildah.Create();
        var name = $"{Repository}:{Tag}";
        await buildah.BuildAsync(
            Helm.RepositoryRoot,
            name,
            new Dictionary<string, string>
            {
                ["SDK_IMAGE"] = $"oci:{bases}:{LocalBases.SdkTag}",
                ["RUNTIME_IMAGE"] = $"oci:{bases}:{LocalBases.RuntimeDepsTag}",
            },
            // The packages this machine restored already: the build stage restores offline from them.
            new Dictionary<string, string> { [NuGetPackages()] = "/root/.nuget/packages" },
            cancellationToken);
        // Only the latest build is kept: a tree that changed will not ask for the older ones again.
        var images = Directory.CreateDirectory(Path.GetDirectoryName(layout)!);
        foreach (var older in images.EnumerateDirectories())
        {
            older.Delete(recursive: true);
        }
        var pushing = layout + ".pushing";
        await buildah.PushAsync(name, $"oci:{pushing}:{Tag}", cancellationToken);
        Directory.Move(pushing, layout);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string NuGetPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
            ? packages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
