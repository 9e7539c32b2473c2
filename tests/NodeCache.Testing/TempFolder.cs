namespace NodeCache.Testing;

/// <summary>
/// A fresh folder under <c>/tmp/nct</c>, deleted with everything in it on dispose. The root is short on purpose:
/// containerd's socket lives in one and Unix socket paths are limited to 108 bytes.
/// </summary>
public sealed class TempFolder : IDisposable
{
    private const string Root = "/tmp/nct";

    private TempFolder(string path) => Path = path;

    public string Path { get; }

    public static TempFolder Create(string prefix)
    {
        Directory.CreateDirectory(Root);
        var path = System.IO.Path.Combine(Root, $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(path);
        return new TempFolder(path);
    }

    /// <summary>A path inside the folder; the subfolder is created when <paramref name="create"/> is set.</summary>
    public string Combine(string relative, bool create = false)
    {
        var path = System.IO.Path.Combine(Path, relative);
        if (create)
        {
            Directory.CreateDirectory(path);
        }
        return path;
    }

    public void Dispose()
    {
        if (!Directory.Exists(Path))
        {
            return;
        }
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process that was just killed may still be closing a file in here; one retry covers that window.
            Thread.Sleep(200);
            Directory.Delete(Path, recursive: true);
        }
    }

    public override string ToString() => Path;
}
