using NodeCache.Oci;
using NodeCache.Store.Eviction;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// The pins ImagePrewarms hold on this node. <see cref="Pins"/> is a set, so two prewarms (or a prewarm and an operator)
/// pinning one image share one pin: a digest is unpinned only when the last prewarm holding it lets go, and never when
/// it was pinned before any prewarm asked for it.
/// </summary>
internal sealed class PrewarmPins(Pins pins)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<Digest>> _held = new(StringComparer.Ordinal);

    // Digests that a prewarm pinned (rather than found pinned): only these are ever unpinned here.
    private readonly HashSet<Digest> _pinnedHere = [];

    /// <summary>After a restart: what the prewarm's status says this node pinned for it.</summary>
    public void Restore(string prewarm, IEnumerable<string>? digests)
    {
        lock (_gate)
        {
            foreach (var text in digests ?? [])
            {
                if (Digest.TryParse(text, out var digest))
                {
                    Held(prewarm).Add(digest);
                    _pinnedHere.Add(digest);
                }
            }
        }
    }

    public void Hold(string prewarm, Digest digest)
    {
        lock (_gate)
        {
            if (pins.Pin(digest))
            {
                _pinnedHere.Add(digest);
            }
            Held(prewarm).Add(digest);
        }
    }

    /// <summary>The digests this node pinned for <paramref name="prewarm"/>, for its status (so that a restart can release them).</summary>
    public IList<string>? PinnedFor(string prewarm)
    {
        lock (_gate)
        {
            return _held.TryGetValue(prewarm, out var held) && held.Any(_pinnedHere.Contains)
                ? [.. held.Where(_pinnedHere.Contains).Select(d => d.ToString()).Order(StringComparer.Ordinal)]
                : null;
        }
    }

    /// <summary>Lets go of what <paramref name="prewarm"/> holds, except <paramref name="keep"/>; returns how many digests were unpinned.</summary>
    public int Release(string prewarm, IReadOnlySet<Digest>? keep = null)
    {
        var unpinned = 0;
        lock (_gate)
        {
            if (!_held.TryGetValue(prewarm, out var held))
            {
                return 0;
            }
            foreach (var digest in held.Where(d => keep is null || !keep.Contains(d)).ToList())
            {
                held.Remove(digest);
                if (_pinnedHere.Contains(digest) && !_held.Values.Any(other => other.Contains(digest)))
                {
                    pins.Unpin(digest);
                    _pinnedHere.Remove(digest);
                    unpinned++;
                }
            }
            if (held.Count == 0)
            {
                _held.Remove(prewarm);
            }
        }
        return unpinned;
    }

    private HashSet<Digest> Held(string prewarm)
    {
        if (!_held.TryGetValue(prewarm, out var held))
        {
            held = [];
            _held[prewarm] = held;
        }
        return held;
    }
}
