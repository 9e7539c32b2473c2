namespace NodeCache.Store.Blobs;

/// <summary>What asking to remove a cached blob did.</summary>
public enum BlobRemoval
{
    /// <summary>Record and file are gone.</summary>
    Removed,

    /// <summary>There was no such blob in the cache.</summary>
    NotCached,

    /// <summary>A response is reading it; it stays.</summary>
    InUse,
}
