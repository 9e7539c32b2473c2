using System.Runtime.InteropServices;
using FASTER.core;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>Hashes and compares digest keys for FASTER.</summary>
internal sealed class DigestKeyComparer<TKey> : IFasterEqualityComparer<TKey>
    where TKey : unmanaged, IDigestKey<TKey>
{
    public static readonly DigestKeyComparer<TKey> Instance = new();

    // A hash is uniformly distributed already: its first eight bytes are as good a hash as any mixing would make. The sha256
    // tables were built with this very function: FASTER's buckets of an existing index depend on it, so it never changes.
    public long GetHashCode64(ref TKey k) => MemoryMarshal.Read<long>(Bytes(ref k));

    public bool Equals(ref TKey k1, ref TKey k2) => Bytes(ref k1).SequenceEqual(Bytes(ref k2));

    private static ReadOnlySpan<byte> Bytes(ref TKey key) => MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(ref key));
}

