using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A SHA-512 digest as the key of the sha512 tables: eight words.</summary>
[InlineArray(8)]
internal struct Sha512Key : IDigestKey<Sha512Key>
{
    private ulong _first;

    public static DigestAlgorithm Algorithm => DigestAlgorithm.Sha512;

    public static Sha512Key From(in Digest digest)
    {
        var key = default(Sha512Key);
        digest.CopyHashTo(MemoryMarshal.AsBytes((Span<ulong>)key));
        return key;
    }

    public readonly Digest ToDigest() => Digest.FromHash(Algorithm, MemoryMarshal.AsBytes((ReadOnlySpan<ulong>)this));
}
