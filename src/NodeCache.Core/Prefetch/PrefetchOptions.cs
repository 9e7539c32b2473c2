namespace NodeCache.Prefetch;

/// <summary>How hard prefetch may pull.</summary>
public sealed record PrefetchOptions
{
    /// <summary>Images prefetched at once. Two keeps a node's first pods ahead without crowding the live pulls they race.</summary>
    public int Concurrency { get; init; } = 2;

    /// <summary>The bytes per second that fills started by prefetch may take together; null is unlimited.</summary>
    public long? BytesPerSecond { get; init; }
}
