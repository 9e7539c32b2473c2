using System.Security.Cryptography;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Workload;

/// <summary>
/// A blob of seeded random bytes, written to a file and hashed in one pass. Throughput figures need bytes that no layer
/// of the path can compress or deduplicate, and need no image around them: a blob is fetched by digest alone.
/// </summary>
internal static class RandomBlob
{
    public const string MediaType = "application/octet-stream";

    // 1 MiB writes: generation and hashing, not write calls, set the pace.
    private const int ChunkSize = 1 << 20;

    public static async Task<BlobFile> WriteAsync(string folder, int seed, long size, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(folder, $"blob-{seed}.partial");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[ChunkSize];
        await using (var content = new SeededRandomStream(seed, size))
        await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, useAsync: true))
        {
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        var digest = Digest.FromHash(hash.GetHashAndReset());
        var path = Path.Combine(folder, digest.Hex);
        File.Move(temporary, path, overwrite: true);
        return new BlobFile(MediaType, digest, size, path);
    }
}
