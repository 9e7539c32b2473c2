using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>A file of an archive, copied into the cache's temp folder with the SHA-256 and size of its bytes.</summary>
internal sealed record StagedFile(string Path, string TempPath, Digest Digest, long Size);
