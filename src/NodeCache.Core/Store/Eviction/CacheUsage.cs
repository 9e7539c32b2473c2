namespace NodeCache.Store.Eviction;

/// <summary>How full the cache is and what keeping it so has cost: one consistent read for stats and metrics.</summary>
/// <param name="UsedBytes">Bytes of the cached blobs.</param>
/// <param name="CapacityBytes">The configured limit in bytes.</param>
/// <param name="Blobs">Blobs in the index.</param>
/// <param name="Evictions">Blobs evicted since start.</param>
/// <param name="EvictedBytes">Bytes evicted since start.</param>
/// <param name="PinnedBlobs">Digests pinned directly or through an image, at the last eviction pass.</param>
public readonly record struct CacheUsage(long UsedBytes, long CapacityBytes, long Blobs, long Evictions, long EvictedBytes, int PinnedBlobs);
