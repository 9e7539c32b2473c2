using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>One tag the index holds, with the name it was stored under.</summary>
internal readonly record struct TagEntry(string Registry, RepositoryName Repository, string Tag, TagRecord Record);
