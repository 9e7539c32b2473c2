using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>What the tag cache knows of registry/repository:tag.</summary>
/// <remarks>The index keeps times as UTC ticks: they come back with a zero offset.</remarks>
public readonly record struct TagRecord(Digest Digest, string MediaType, long Size, DateTimeOffset FetchedAt);
