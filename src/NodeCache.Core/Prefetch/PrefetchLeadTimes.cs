using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Telemetry;

namespace NodeCache.Prefetch;

/// <summary>
/// Measures each prefetch against the pull it prepared: the time from the image being cached to the first mirror request
/// for the reference a pod named (the kubelet's resolve), negative when the kubelet asked first.
/// </summary>
public sealed class PrefetchLeadTimes(PrefetchMetrics metrics, TimeProvider time, ILogger logger)
{
    // A key per image a pod named; an image nobody asks for again is forgotten past this many.
    private const int MaxTracked = 4096;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Starts watching for the first request of an image prefetch takes on.</summary>
    public void Track(ImageReference image)
    {
        if (_entries.Count >= MaxTracked)
        {
            foreach (var measured in _entries.Where(e => e.Value.Measured).Select(e => e.Key).ToList())
            {
                _entries.TryRemove(measured, out _);
            }
        }
        _entries.TryAdd(Key(image.Registry, image.Repository.Value, image.Reference), new Entry());
    }

    /// <summary>The image is cached now.</summary>
    public void Cached(ImageReference image)
    {
        if (_entries.TryGetValue(Key(image.Registry, image.Repository.Value, image.Reference), out var entry))
        {
            lock (entry)
            {
                entry.CachedAt ??= time.GetUtcNow();
                Measure(image.ToString(), entry);
            }
        }
    }

    /// <summary>A client asked the mirror for a manifest; cheap when nobody prefetches it.</summary>
    public void Requested(string registry, RepositoryName repository, string reference)
    {
        if (_entries.IsEmpty || !_entries.TryGetValue(Key(registry, repository.Value, reference), out var entry))
        {
            return;
        }
        lock (entry)
        {
            entry.RequestedAt ??= time.GetUtcNow();
            Measure($"{registry}/{repository}:{reference}", entry);
        }
    }

    private void Measure(string image, Entry entry)
    {
        if (entry.Measured || entry.CachedAt is not { } cached || entry.RequestedAt is not { } requested)
        {
            return;
        }
        entry.Measured = true;
        var lead = requested - cached;
        metrics.LeadTime(lead);
        logger.LogInformation("Prefetch lead time of {Image}: {Seconds:F3} s {Side} the first request", image, Math.Abs(lead.TotalSeconds), lead >= TimeSpan.Zero ? "before" : "after");
    }

    private static string Key(string registry, string repository, string reference) => $"{registry}/{repository}|{reference}";

    private sealed class Entry
    {
        public DateTimeOffset? CachedAt { get; set; }

        public DateTimeOffset? RequestedAt { get; set; }

        public bool Measured { get; set; }
    }
}
