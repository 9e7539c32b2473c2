using System.Runtime.InteropServices;
using FASTER.core;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>Hashes and compares digests as FASTER keys.</summary>
internal sealed class DigestComparer : IFasterEqualityComparer<Digest>
{
    public static readonly DigestComparer Instance = new();

    // A SHA-256 is uniformly distributed already: its first eight bytes are as good a hash as any mixing would make.
    public long GetHashCode64(ref Digest k) => MemoryMarshal.Read<long>(MemoryMarshal.AsBytes(new ReadOnlySpan<Digest>(ref k)));

    public bool Equals(ref Digest k1, ref Digest k2) => k1.Equals(k2);
}
