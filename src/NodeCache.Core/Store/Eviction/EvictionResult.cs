namespace NodeCache.Store.Eviction;

/// <summary>What asking to evict one blob now did.</summary>
public enum EvictionResult
{
    Evicted,
    NotCached,

    /// <summary>Pinned directly or through an image: unpin it first.</summary>
    Pinned,

    /// <summary>Retained by another component (a running pod's image).</summary>
    Retained,

    /// <summary>Being served now.</summary>
    InUse,
}
