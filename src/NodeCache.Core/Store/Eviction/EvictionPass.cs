namespace NodeCache.Store.Eviction;

/// <summary>What one eviction pass did.</summary>
/// <param name="Evicted">Blobs removed.</param>
/// <param name="EvictedBytes">Their bytes.</param>
/// <param name="Kept">Candidates passed by: pinned (by an operator or for a pod) or being served.</param>
/// <param name="UsedBytesAfter">Bytes of the cache when the pass ended.</param>
/// <param name="Elapsed">How long the pass took, scan included.</param>
public readonly record struct EvictionPass(int Evicted, long EvictedBytes, int Kept, long UsedBytesAfter, TimeSpan Elapsed);
