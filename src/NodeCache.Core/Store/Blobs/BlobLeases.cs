using System.Collections.Concurrent;
using NodeCache.Oci;

namespace NodeCache.Store.Blobs;

/// <summary>
/// The cached blobs being served right now. Eviction and quarantine pass a leased blob by, and a blob that is being
/// removed cannot be leased: whichever comes second sees the first, so a response never loses its file half way.
/// </summary>
public sealed class BlobLeases
{
    private readonly ConcurrentDictionary<Digest, int> _held = new();
    private readonly ConcurrentDictionary<Digest, byte> _removing = new();

    /// <summary>Blobs with at least one lease.</summary>
    public int Count => _held.Count;

    /// <summary>Leases the blob for one response; false while it is being removed (serve it as the miss it is about to be).</summary>
    public bool TryAcquire(Digest digest, out BlobLease lease)
    {
        _held.AddOrUpdate(digest, 1, static (_, n) => n + 1);
        // Publish the lease before looking for a removal; a remover publishes first and looks second (Dekker's order).
        Interlocked.MemoryBarrier();
        if (_removing.ContainsKey(digest))
        {
            Release(digest);
            lease = default;
            return false;
        }
        lease = new BlobLease(this, digest);
        return true;
    }

    /// <summary>Leases the blob, first waiting out a removal in progress (a record and a file to delete: microseconds).</summary>
    internal BlobLease AcquireAfterRemoval(Digest digest)
    {
        var spin = new SpinWait();
        BlobLease lease;
        while (!TryAcquire(digest, out lease))
        {
            spin.SpinOnce();
        }
        return lease;
    }

    public bool IsHeld(Digest digest) => _held.ContainsKey(digest);

    /// <summary>True while an eviction or quarantine removes the blob: its record may still be there, but it is going.</summary>
    internal bool IsBeingRemoved(Digest digest) => _removing.ContainsKey(digest);

    /// <summary>Marks the blob as being removed; false (and nothing marked) when it is leased.</summary>
    internal bool TryBeginRemoval(Digest digest)
    {
        if (!_removing.TryAdd(digest, 0))
        {
            return false;
        }
        Interlocked.MemoryBarrier();
        if (_held.ContainsKey(digest))
        {
            _removing.TryRemove(digest, out _);
            return false;
        }
        return true;
    }

    internal void EndRemoval(Digest digest) => _removing.TryRemove(digest, out _);

    internal void Release(Digest digest)
    {
        while (true)
        {
            if (!_held.TryGetValue(digest, out var count))
            {
                return;
            }
            if (count == 1 ? _held.TryRemove(new KeyValuePair<Digest, int>(digest, 1)) : _held.TryUpdate(digest, count - 1, count))
            {
                return;
            }
        }
    }
}

/// <summary>One response's hold on a cached blob; dispose it when the response is done.</summary>
public readonly struct BlobLease : IDisposable, IEquatable<BlobLease>
{
    private readonly BlobLeases? _leases;
    private readonly Digest _digest;

    internal BlobLease(BlobLeases leases, Digest digest) => (_leases, _digest) = (leases, digest);

    public void Dispose() => _leases?.Release(_digest);

    public bool Equals(BlobLease other) => ReferenceEquals(_leases, other._leases) && _digest == other._digest;

    public override bool Equals(object? obj) => obj is BlobLease other && Equals(other);

    public override int GetHashCode() => _digest.GetHashCode();

    public static bool operator ==(BlobLease left, BlobLease right) => left.Equals(right);

    public static bool operator !=(BlobLease left, BlobLease right) => !left.Equals(right);
}
