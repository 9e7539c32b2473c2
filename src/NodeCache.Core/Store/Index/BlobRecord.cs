namespace NodeCache.Store.Index;

/// <summary>What the index knows of one cached blob.</summary>
/// <remarks>The index keeps times as UTC ticks: they come back with a zero offset.</remarks>
public readonly record struct BlobRecord(long Size, string MediaType, BlobState State, DateTimeOffset CreatedAt, DateTimeOffset LastAccessAt);
