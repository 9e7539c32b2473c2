namespace NodeCache.Store.Eviction;

/// <summary>What asking to evict one blob now did.</summary>
public enum EvictionResult
{
    Evicted,
    NotCached,

    /// <summary>Pinned directly or through an image: unpin it first.</summary>
    Pinned,

    /// <summary>Pinned for a pod on this node (an image it runs or is about to pull).</summary>
    PinnedForPod,

    /// <summary>Being served now.</summary>
    InUse,
}
