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

    // The kubelet learns of a pod from its own watch and may ask before this agent has seen the pod: requests of the last
    // minute for images nobody prefetches are remembered, so such a race still counts, as a lead time below zero.
    private const int MaxEarlyRequests = 1024;
    private static readonly TimeSpan EarlyWindow = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _earlyRequests = new(StringComparer.Ordinal);

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
        var key = Key(image.Registry, image.Repository.Value, image.Reference);
        var entry = new Entry();
        // The entry is published before the early requests are looked at, and Requested does the reverse, so a request
        // made while the image is being tracked is seen by one side or the other, never lost between them.
        if (!_entries.TryAdd(key, entry))
        {
            return;
        }
        if (_earlyRequests.TryRemove(key, out var early) && time.GetUtcNow() - early < EarlyWindow)
        {
            lock (entry)
            {
                entry.RequestedAt ??= early;
            }
        }
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

    /// <summary>A client asked the mirror for a manifest.</summary>
    public void Requested(string registry, RepositoryName repository, string reference)
    {
        var key = Key(registry, repository.Value, reference);
        var now = time.GetUtcNow();
        if (!_entries.TryGetValue(key, out var entry))
        {
            if (_earlyRequests.Count >= MaxEarlyRequests)
            {
                _earlyRequests.Clear();
            }
            _earlyRequests.TryAdd(key, now);
            // Track may have published its entry after the lookup above and looked for this request before it was
            // there: whichever side takes the early request back applies it.
            if (!_entries.TryGetValue(key, out entry) || !_earlyRequests.TryRemove(key, out now))
            {
                return;
            }
        }
        lock (entry)
        {
            entry.RequestedAt ??= now;
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
