using System.Collections.Frozen;
using System.Collections.Immutable;
using NodeCache.Oci;

namespace NodeCache.Store.Eviction;

/// <summary>
/// Blobs that other parts of the node still need (the images of the pods running here), each set kept up to date by the
/// component that knows it: call <see cref="Replace"/> with the whole set whenever it changes. Eviction never removes
/// a retained blob. Sets live in memory: a provider republishes its set after a restart.
/// </summary>
public sealed class RetainedBlobs
{
    private ImmutableDictionary<string, FrozenSet<Digest>> _byProvider = ImmutableDictionary<string, FrozenSet<Digest>>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Replaces everything <paramref name="provider"/> retained with <paramref name="digests"/>.</summary>
    public void Replace(string provider, IEnumerable<Digest> digests)
    {
        ArgumentException.ThrowIfNullOrEmpty(provider);
        var set = digests.ToFrozenSet();
        ImmutableInterlocked.AddOrUpdate(ref _byProvider, provider, set, (_, _) => set);
    }

    /// <summary>Drops everything <paramref name="provider"/> retained.</summary>
    public void Clear(string provider) => ImmutableInterlocked.TryRemove(ref _byProvider, provider, out _);

    public bool Contains(Digest digest)
    {
        foreach (var (_, set) in Volatile.Read(ref _byProvider))
        {
            if (set.Contains(digest))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Every retained digest, from every provider.</summary>
    public IReadOnlySet<Digest> Snapshot() => Volatile.Read(ref _byProvider).Values.SelectMany(set => set).ToHashSet();
}
