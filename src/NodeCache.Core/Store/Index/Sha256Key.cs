using System.Runtime.CompilerServices;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A SHA-256 digest as the key of the sha256 tables: four words, laid out as the tables have always been written.</summary>
[InlineArray(4)]
internal struct Sha256Key : IDigestKey<Sha256Key>
{
    private ulong _first;

    public static DigestAlgorithm Algorithm => DigestAlgorithm.Sha256;
}
