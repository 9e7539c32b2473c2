using System.Runtime.CompilerServices;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A SHA-512 digest as the key of the sha512 tables: eight words.</summary>
[InlineArray(8)]
internal struct Sha512Key : IDigestKey<Sha512Key>
{
    private ulong _first;

    public static DigestAlgorithm Algorithm => DigestAlgorithm.Sha512;
}
