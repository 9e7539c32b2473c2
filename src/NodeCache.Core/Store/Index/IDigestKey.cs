using System.Runtime.InteropServices;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>
/// A digest of one algorithm as a FASTER key: the hash alone, blittable, stored in the log as it is. Each algorithm has
/// its own tables, so the key needs no algorithm byte, and a SHA-256 key is the 32 bytes the first tables were written with.
/// </summary>
/// <remarks>An implementation is an inline array exactly the size of its algorithm's hash.</remarks>
internal interface IDigestKey<TSelf>
    where TSelf : unmanaged, IDigestKey<TSelf>
{
    static abstract DigestAlgorithm Algorithm { get; }

    /// <summary>The key of a digest of <see cref="Algorithm"/>; the caller checked the algorithm.</summary>
    static virtual TSelf From(in Digest digest)
    {
        var key = default(TSelf);
        digest.CopyHashTo(MemoryMarshal.AsBytes(new Span<TSelf>(ref key)));
        return key;
    }

    static virtual Digest ToDigest(in TSelf key) => Digest.FromHash(TSelf.Algorithm, MemoryMarshal.AsBytes(new ReadOnlySpan<TSelf>(in key)));
}
