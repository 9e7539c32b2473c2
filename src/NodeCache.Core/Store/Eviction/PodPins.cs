using System.Collections.Frozen;
using System.Collections.Immutable;
using NodeCache.Oci;

namespace NodeCache.Store.Eviction;

/// <summary>
/// Blobs pinned for the pods of this node: the images of pods running here (<see cref="RunningPodPins"/>) and of pods about
/// to pull them (the prefetch queue). Each holder keeps its own set up to date: call <see cref="Replace"/> with the whole
/// set whenever it changes. Eviction never removes a blob pinned for a pod. Sets live in memory: a holder publishes its
/// set again after a restart.
/// </summary>
public sealed class PodPins
{
    private ImmutableDictionary<string, FrozenSet<Digest>> _byHolder = ImmutableDictionary<string, FrozenSet<Digest>>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Replaces everything <paramref name="holder"/> pinned with <paramref name="digests"/>.</summary>
    public void Replace(string holder, IEnumerable<Digest> digests)
    {
        ArgumentException.ThrowIfNullOrEmpty(holder);
        var set = digests.ToFrozenSet();
        ImmutableInterlocked.AddOrUpdate(ref _byHolder, holder, set, (_, _) => set);
    }

    /// <summary>Drops everything <paramref name="holder"/> pinned.</summary>
    public void Clear(string holder) => ImmutableInterlocked.TryRemove(ref _byHolder, holder, out _);

    public bool Contains(Digest digest)
    {
        foreach (var (_, set) in Volatile.Read(ref _byHolder))
        {
            if (set.Contains(digest))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Every digest pinned for a pod, by any holder.</summary>
    public IReadOnlySet<Digest> Snapshot() => Volatile.Read(ref _byHolder).Values.SelectMany(set => set).ToHashSet();
}
