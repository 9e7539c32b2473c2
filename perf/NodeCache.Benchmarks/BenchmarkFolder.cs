namespace NodeCache.Benchmarks;

/// <summary>A scratch folder under the system temp folder for one benchmark class, deleted with everything in it.</summary>
internal sealed class BenchmarkFolder : IDisposable
{
    private BenchmarkFolder(string path) => Path = path;

    public string Path { get; }

    public static BenchmarkFolder Create(string prefix)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nodecache-bench-{prefix}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(path);
        return new BenchmarkFolder(path);
    }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
