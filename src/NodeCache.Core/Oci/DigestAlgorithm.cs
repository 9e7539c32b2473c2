using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace NodeCache.Oci;

/// <summary>The digest algorithms the OCI image spec registers; the cache verifies, stores and serves both.</summary>
/// <remarks>SHA-256 is 0, so <c>default(Digest)</c> is a SHA-256 digest, as it was when it was the only algorithm.</remarks>
public enum DigestAlgorithm : byte
{
    Sha256 = 0,
    Sha512 = 1,
}

/// <summary>Each algorithm's name in a digest, hash size and .NET hash.</summary>
public static class DigestAlgorithms
{
    extension(DigestAlgorithm algorithm)
    {
        /// <summary>The name before the colon: <c>sha256</c>, <c>sha512</c>.</summary>
        public string Name => algorithm == DigestAlgorithm.Sha512 ? "sha512" : "sha256";

        /// <summary>Bytes of the hash: 32 or 64.</summary>
        public int HashSize => algorithm == DigestAlgorithm.Sha512 ? SHA512.HashSizeInBytes : SHA256.HashSizeInBytes;

        /// <summary>The .NET name of the hash.</summary>
        public HashAlgorithmName HashName => algorithm == DigestAlgorithm.Sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;

        /// <summary>A hash to feed content to as it arrives; <see cref="Digest.FromHash(IncrementalHash)"/> finishes it.</summary>
        public IncrementalHash CreateHash() => IncrementalHash.CreateHash(algorithm.HashName);
    }

    /// <summary>Every algorithm, SHA-256 (the one registries compute by default) first.</summary>
    public static IReadOnlyList<DigestAlgorithm> All { get; } = [DigestAlgorithm.Sha256, DigestAlgorithm.Sha512];

    /// <summary>The algorithm named <paramref name="name"/> exactly (lower case, as the spec's canonical form has it).</summary>
    public static bool TryParse(ReadOnlySpan<char> name, out DigestAlgorithm algorithm)
    {
        algorithm = DigestAlgorithm.Sha256;
        if (name.SequenceEqual("sha256"))
        {
            return true;
        }
        algorithm = DigestAlgorithm.Sha512;
        return name.SequenceEqual("sha512");
    }

    internal static bool TryFrom(HashAlgorithmName name, [NotNullWhen(true)] out DigestAlgorithm? algorithm)
    {
        algorithm = name == HashAlgorithmName.SHA256 ? DigestAlgorithm.Sha256 : name == HashAlgorithmName.SHA512 ? DigestAlgorithm.Sha512 : null;
        return algorithm is not null;
    }
}
