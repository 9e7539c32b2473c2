using NodeCache.Oci;

namespace NodeCache.Benchmarks;

/// <summary>Digests for index benchmarks: random 32-byte hashes from a fixed seed, as uniformly spread as real SHA-256 values.</summary>
internal static class BenchmarkDigests
{
    public static Digest[] Make(int count, int seed)
    {
        var random = new Random(seed);
        var hash = new byte[DigestAlgorithm.Sha256.HashSize];
        var digests = new Digest[count];
        for (var i = 0; i < digests.Length; i++)
        {
            random.NextBytes(hash);
            digests[i] = Digest.FromHash(hash);
        }
        return digests;
    }
}
