using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Images;
using NodeCache.Store.Index;

namespace NodeCache.Store.Eviction;

/// <summary>
/// Keeps the cache under its quota by removing the least recently accessed blobs, as the index records access, and
/// removes blobs on request. Never removed: a pinned blob (directly, through an image, or for a pod), a blob being
/// served. A blob being filled is not in the index until it is complete, so it is never a candidate. A pass reads the
/// index and removes files; it takes no lock a request waits on.
/// </summary>
public sealed class BlobEviction
{
    private readonly BlobStore _store;
    private readonly BlobIndex _index;
    private readonly CacheQuota _quota;
    private readonly Pins _pins;
    private readonly ImageBlobs _images;
    private readonly PodPins _podPins;
    private readonly ILogger _logger;
    private readonly Lock _passTurn = new();
    private long _evictions;
    private long _evictedBytes;
    private int _pinnedBlobs;

    public BlobEviction(BlobStore store, BlobIndex index, CacheQuota quota, Pins pins, ImageBlobs images, PodPins podPins, ILogger logger)
    {
        (_store, _index, _quota, _pins, _images, _podPins, _logger) = (store, index, quota, pins, images, podPins, logger);
    }

    public CacheQuota Quota => _quota;

    /// <summary>True when the cache holds more than the high watermark.</summary>
    public bool IsOverQuota => _store.UsedBytes > _quota.HighBytes;

    public CacheUsage Usage() => new(
        _store.UsedBytes, _quota.Capacity(), _store.Count, Interlocked.Read(ref _evictions), Interlocked.Read(ref _evictedBytes), Volatile.Read(ref _pinnedBlobs));

    /// <summary>When over the high watermark, evicts the least recently accessed blobs until under the low one; otherwise does nothing.</summary>
    public EvictionPass RunPass()
    {
        var clock = Stopwatch.StartNew();
        if (!IsOverQuota)
        {
            return new EvictionPass(0, 0, 0, _store.UsedBytes, clock.Elapsed);
        }
        // One pass at a time: two would pick the same oldest blobs and evict twice the bytes needed.
        lock (_passTurn)
        {
            return Pass(clock, _quota.LowBytes);
        }
    }

    /// <summary>Evicts least recently accessed blobs until <paramref name="bytes"/> are freed, whatever the quota (the disk filled up under it).</summary>
    public EvictionPass FreeUp(long bytes)
    {
        var clock = Stopwatch.StartNew();
        lock (_passTurn)
        {
            return Pass(clock, Math.Max(0, _store.UsedBytes - bytes));
        }
    }

    /// <summary>Removes one blob now, unless it is pinned (by an operator or for a pod) or being served.</summary>
    public EvictionResult Evict(Digest digest) => Evict(digest, _pins.Resolve(_images));

    /// <summary>Removes every cached blob of the image now (manifests, configs, layers), except those kept for another reason.</summary>
    public IReadOnlyDictionary<Digest, EvictionResult> Evict(PinnedImage image)
    {
        var pinned = _pins.Resolve(_images);
        // Layers first, manifests last: while a manifest stays, the image can still be walked.
        return _images.Of(image).OrderBy(d => _images.Of(d).Count).ToDictionary(d => d, d => Evict(d, pinned));
    }

    private EvictionResult Evict(Digest digest, IReadOnlySet<Digest> pinned)
    {
        if (pinned.Contains(digest))
        {
            return EvictionResult.Pinned;
        }
        if (_podPins.Contains(digest))
        {
            return EvictionResult.PinnedForPod;
        }
        var size = _store.TryPeek(digest, out var blob) ? blob.Size : 0;
        switch (_store.TryRemove(digest))
        {
            case BlobRemoval.Removed:
                Interlocked.Increment(ref _evictions);
                Interlocked.Add(ref _evictedBytes, size);
                _logger.LogInformation("Evicted {Digest} ({Size} bytes) on request", digest, size);
                return EvictionResult.Evicted;
            case BlobRemoval.InUse:
                return EvictionResult.InUse;
            default:
                return EvictionResult.NotCached;
        }
    }

    private EvictionPass Pass(Stopwatch clock, long low)
    {
        var pinned = _pins.Resolve(_images);
        Volatile.Write(ref _pinnedBlobs, pinned.Count);
        var pinnedForPods = _podPins.Snapshot();
        var kept = 0;
        var candidates = new List<(Digest Digest, long Size, long LastAccess)>();
        foreach (var (digest, record) in _index.Entries())
        {
            if (pinned.Contains(digest) || pinnedForPods.Contains(digest))
            {
                kept++;
                continue;
            }
            candidates.Add((digest, record.Size, record.LastAccessAt.UtcTicks));
        }
        candidates.Sort(static (a, b) => a.LastAccess.CompareTo(b.LastAccess));
        var evicted = 0;
        long evictedBytes = 0;
        foreach (var candidate in candidates)
        {
            if (_store.UsedBytes <= low)
            {
                break;
            }
            // Read again: a hit since the scan made this blob recent, and the order no longer holds for it.
            if (_index.TryGet(candidate.Digest, out var now) && now.LastAccessAt.UtcTicks != candidate.LastAccess)
            {
                continue;
            }
            switch (_store.TryRemove(candidate.Digest))
            {
                case BlobRemoval.Removed:
                    evicted++;
                    evictedBytes += candidate.Size;
                    break;
                case BlobRemoval.InUse:
                    kept++;
                    break;
            }
        }
        Interlocked.Add(ref _evictions, evicted);
        Interlocked.Add(ref _evictedBytes, evictedBytes);
        var pass = new EvictionPass(evicted, evictedBytes, kept, _store.UsedBytes, clock.Elapsed);
        _logger.LogInformation(
            "Eviction pass: {Evicted} blobs ({EvictedBytes} bytes) evicted, {Kept} kept (pinned or in use); {Used} of {Capacity} bytes used, in {Elapsed} ms",
            pass.Evicted, pass.EvictedBytes, pass.Kept, pass.UsedBytesAfter, _quota.Capacity(), (long)pass.Elapsed.TotalMilliseconds);
        return pass;
    }
}
