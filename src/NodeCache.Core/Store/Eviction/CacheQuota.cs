namespace NodeCache.Store.Eviction;

/// <summary>
/// How big the cache may grow: a pass starts once the blobs take more than <see cref="HighWatermark"/> of the capacity
/// and evicts down to <see cref="LowWatermark"/>, so the cache does not evict a blob for every blob it fills.
/// </summary>
/// <param name="Capacity">The capacity in bytes now; a share of the filesystem is resolved again at every call.</param>
public sealed record CacheQuota(Func<long> Capacity, double HighWatermark, double LowWatermark)
{
    /// <summary>A fixed capacity with the given watermarks (fractions of 1).</summary>
    public static CacheQuota Fixed(long capacityBytes, double highWatermark = 0.9, double lowWatermark = 0.8) =>
        new(() => capacityBytes, highWatermark, lowWatermark);

    public long HighBytes => (long)(Capacity() * HighWatermark);

    public long LowBytes => (long)(Capacity() * LowWatermark);
}
