using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A SHA-256 digest as the key of the sha256 tables: four words, laid out as the tables have always been written.</summary>
[InlineArray(4)]
internal struct Sha256Key : IDigestKey<Sha256Key>
{
    private ulong _first;

    public static DigestAlgorithm Algorithm => DigestAlgorithm.Sha256;

    public static Sha256Key From(in Digest digest)
    {
        var key = default(Sha256Key);
        digest.CopyHashTo(MemoryMarshal.AsBytes((Span<ulong>)key));
        return key;
    }

    public readonly Digest ToDigest() => Digest.FromHash(Algorithm, MemoryMarshal.AsBytes((ReadOnlySpan<ulong>)this));
}
