namespace NodeCache.Testing.Images;

/// <summary>
/// An exclusive lock on a file of the test cache, held until disposed: test runs of several checkouts share the cache,
/// and one of them builds what is missing while the others wait.
/// </summary>
public static class CacheLock
{
    public static async Task<IDisposable> AcquireAsync(string path, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive flock(2) on Linux, which another process's open of the file waits out.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
