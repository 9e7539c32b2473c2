using System.Diagnostics.Metrics;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;

namespace NodeCache.Telemetry;

/// <summary>
/// The cache's health on the mirror's Meter: how full it is, what eviction removed, what the scrub found, and whether the
/// disk is full. Every instrument is observed from the live state when scraped, so nothing here can drift from it.
/// </summary>
public sealed class CacheMetrics : IDisposable
{
    private readonly Meter _meter;

    public CacheMetrics(BlobEviction eviction, BlobScrub scrub, DiskSpace space, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(eviction);
        ArgumentNullException.ThrowIfNull(scrub);
        ArgumentNullException.ThrowIfNull(space);
        _meter = meterFactory?.Create(MirrorMetrics.MeterName) ?? new Meter(MirrorMetrics.MeterName);
        _meter.CreateObservableGauge("nodecache_cache_bytes", () => eviction.Usage().UsedBytes, "By", "Bytes of the cached blobs.");
        _meter.CreateObservableGauge("nodecache_cache_capacity_bytes", () => eviction.Usage().CapacityBytes, "By", "The cache's size limit (--cache-size) in bytes.");
        _meter.CreateObservableGauge("nodecache_cache_blobs", () => eviction.Usage().Blobs, description: "Blobs in the cache.");
        _meter.CreateObservableGauge("nodecache_cache_pinned_blobs", () => eviction.Usage().PinnedBlobs, description: "Blobs pinned directly or through an image, at the last eviction pass.");
        _meter.CreateObservableCounter("nodecache_evictions", () => eviction.Usage().Evictions, description: "Blobs evicted to stay under the quota or on request.");
        _meter.CreateObservableCounter("nodecache_evicted_bytes", () => eviction.Usage().EvictedBytes, "By", "Bytes evicted.");
        _meter.CreateObservableCounter("nodecache_scrub_checked_blobs", () => scrub.Checked, description: "Cached blobs hashed again by the scrub.");
        _meter.CreateObservableCounter("nodecache_scrub_corrupt_blobs", () => scrub.Corrupt, description: "Cached blobs the scrub found corrupt and quarantined.");
        _meter.CreateObservableGauge("nodecache_disk_full", () => space.IsFull ? 1 : 0, description: "1 while the cache disk is full and misses are served without caching.");
        _meter.CreateObservableCounter("nodecache_fills_skipped_disk_full", () => space.FillsSkipped, description: "Misses served straight from the upstream, uncached, because the disk was full.");
    }

    public void Dispose() => _meter.Dispose();
}
