namespace NodeCache.Store.Index;

/// <summary>Where a cached blob stands; stored as one byte in the index, so values are never renumbered.</summary>
public enum BlobState : byte
{
    Committed = 1,
}
