using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>A file of an archive, copied into the cache's temp folder with the size and digest of its bytes (by the algorithm its path names, SHA-256 when it names none).</summary>
internal sealed record StagedFile(string Path, string TempPath, Digest Digest, long Size);
