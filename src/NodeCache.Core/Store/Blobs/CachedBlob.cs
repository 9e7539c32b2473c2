using NodeCache.Oci;

namespace NodeCache.Store.Blobs;

/// <summary>A cached blob ready to serve.</summary>
public readonly record struct CachedBlob(Digest Digest, string Path, long Size, string MediaType);
