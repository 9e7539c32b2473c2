using NodeCache.Oci;

namespace NodeCache.Benchmarks;

/// <summary>Digests for index benchmarks: random hashes from a fixed seed, as uniformly spread as real SHA-256 (or SHA-512) values.</summary>
internal static class BenchmarkDigests
{
    public static Digest[] Make(int count, int seed, DigestAlgorithm algorithm = DigestAlgorithm.Sha256)
    {
        var random = new Random(seed);
        var hash = new byte[algorithm.HashSize];
        var digests = new Digest[count];
        for (var i = 0; i < digests.Length; i++)
        {
            random.NextBytes(hash);
            digests[i] = Digest.FromHash(algorithm, hash);
        }
        return digests;
    }
}
