using Microsoft.Extensions.Logging;

namespace NodeCache.Store.Blobs;

/// <summary>
/// Whether the cache's filesystem has room for another fill. Set full when a fill hits ENOSPC or would not fit; while full,
/// misses are served straight from the upstream and nothing is cached. Cleared when a check finds room again
/// (after an eviction, or after space was freed by someone else).
/// </summary>
public sealed class DiskSpace(string directory, long reserveBytes, ILogger logger)
{
    // ENOSPC as .NET reports it on Unix (the raw errno), and ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL as HRESULTs.
    private const int Enospc = 28;
    private const int DiskFullHResult = unchecked((int)0x80070070);
    private const int HandleDiskFullHResult = unchecked((int)0x80070027);

    private int _full;
    private long _fillsSkipped;

    /// <summary>Free bytes below which a new fill is not started.</summary>
    public long ReserveBytes => reserveBytes;

    public bool IsFull => Volatile.Read(ref _full) == 1;

    /// <summary>Misses served from the upstream without caching because the disk was full.</summary>
    public long FillsSkipped => Interlocked.Read(ref _fillsSkipped);

    public static bool IsDiskFull(IOException exception) =>
        exception is not null && exception.HResult is Enospc or DiskFullHResult or HandleDiskFullHResult;

    /// <summary>True when a blob of <paramref name="size"/> bytes (unknown: null) fits with the reserve to spare; false marks the disk full.</summary>
    public bool HasRoomFor(long? size)
    {
        var free = AvailableBytes();
        if (free - (size ?? 0) >= reserveBytes)
        {
            return true;
        }
        MarkFull($"{free} bytes free, {size} needed");
        return false;
    }

    public void MarkFull(string reason)
    {
        if (Interlocked.Exchange(ref _full, 1) == 0)
        {
            logger.LogWarning("Cache disk full ({Reason}): misses are served from the upstream without caching until space is freed", reason);
        }
    }

    public void CountSkippedFill() => Interlocked.Increment(ref _fillsSkipped);

    /// <summary>Clears the full mark when the reserve is free again; true when the disk has room now.</summary>
    public bool Recheck()
    {
        if (!IsFull)
        {
            return true;
        }
        var free = AvailableBytes();
        if (free < reserveBytes)
        {
            return false;
        }
        if (Interlocked.Exchange(ref _full, 0) == 1)
        {
            logger.LogInformation("Cache disk has room again ({Free} bytes free): fills resume", free);
        }
        return true;
    }

    private long AvailableBytes()
    {
        try
        {
            return new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue;
        }
    }
}
