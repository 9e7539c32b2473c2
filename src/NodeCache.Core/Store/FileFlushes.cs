using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace NodeCache.Store;

/// <summary>
/// Blob files indexed before their bytes were flushed to disk, each flushing in the background. An index checkpoint waits
/// for every flush started before it, so a checkpointed record never names a file the disk may not hold after a power
/// loss. A process that dies meanwhile loses nothing: the page cache still holds the bytes, and recovery hashes any file
/// the recovered index does not name.
/// </summary>
public sealed class FileFlushes
{
    private readonly ConcurrentDictionary<Task, string> _running = new();

    /// <summary>Flushes <paramref name="file"/> to disk on another thread, then closes it; the handle is this class's from now on.</summary>
    public void Start(SafeFileHandle file, string path, Action<string, IOException> failed)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(failed);
        var flush = Task.Run(() =>
        {
            using (file)
            {
                try
                {
                    RandomAccess.FlushToDisk(file);
                }
                catch (IOException ex)
                {
                    failed(path, ex);
                }
            }
        });
        _running[flush] = path;
        flush.ContinueWith(done => _running.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Completes once every flush started so far has ended.</summary>
    public Task WhenFlushedAsync() => Task.WhenAll(_running.Keys);
}
