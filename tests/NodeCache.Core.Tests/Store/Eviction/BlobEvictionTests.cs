using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using NodeCache.Store.Index;

namespace NodeCache.Core.Tests.Store.Eviction;

public sealed class BlobEvictionTests : IDisposable
{
    private readonly CacheFolder _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public void A_pass_over_the_high_watermark_evicts_the_least_recently_accessed_blobs_down_to_the_low_watermark()
    {
        // Ten blobs of 1000 bytes in a 10,000-byte cache: 100% used, over the 90% mark; the pass must get to 80% or less.
        var blobs = Enumerable.Range(0, 10).Select(i => _cache.Put($"blob {i}")).ToArray();
        for (var i = 0; i < blobs.Length; i++)
        {
            // Accessed in an order unlike the order they were written in: 9, 8, ..., 0, so blob 9 is the oldest.
            _cache.Access(blobs[blobs.Length - 1 - i], CacheFolder.T0.AddMinutes(i + 1));
        }
        var eviction = _cache.Eviction(capacity: 10_000);

        var pass = eviction.RunPass();

        Assert.Equal(2, pass.Evicted);
        Assert.Equal(2000, pass.EvictedBytes);
        Assert.Equal(8000, _cache.Store.UsedBytes);
        Assert.False(_cache.Store.Contains(blobs[9]));
        Assert.False(_cache.Store.Contains(blobs[8]));
        Assert.False(File.Exists(_cache.Layout.BlobPath(blobs[9])));
        Assert.All(blobs[..8], blob => Assert.True(_cache.Store.Contains(blob)));
        Assert.Equal(new CacheUsage(8000, 10_000, 8, 2, 2000, 0), eviction.Usage());
    }

    [Fact]
    public void A_pass_under_the_high_watermark_evicts_nothing()
    {
        var blobs = Enumerable.Range(0, 9).Select(i => _cache.Put($"blob {i}")).ToArray();

        var pass = _cache.Eviction(capacity: 10_000).RunPass();

        Assert.Equal(0, pass.Evicted);
        Assert.All(blobs, blob => Assert.True(_cache.Store.Contains(blob)));
    }

    [Fact]
    public void Pinned_and_served_blobs_are_never_evicted_however_old()
    {
        var oldest = Enumerable.Range(0, 3).Select(i => _cache.Put($"old {i}")).ToArray();
        _cache.Time.Now = CacheFolder.T0.AddHours(1);
        var newer = Enumerable.Range(0, 7).Select(i => _cache.Put($"new {i}")).ToArray();
        _cache.Pins.Pin(oldest[0]);
        _cache.PodPins.Replace("test-pods", [oldest[1]]);
        Assert.True(_cache.Store.Leases.TryAcquire(oldest[2], out var lease));
        using (lease)
        {
            var pass = _cache.Eviction(capacity: 10_000).RunPass();

            Assert.Equal(3, pass.Kept);
            Assert.All(oldest, blob => Assert.True(_cache.Store.Contains(blob)));
            // With the three oldest kept, the next oldest go instead: the quota is still met.
            Assert.Equal(2, pass.Evicted);
            Assert.Equal(8000, _cache.Store.UsedBytes);
            Assert.Equal(5, newer.Count(_cache.Store.Contains));
        }
    }

    [Fact]
    public void A_blob_hit_during_a_pass_after_the_scan_is_not_evicted_on_the_old_order()
    {
        var blobs = Enumerable.Range(0, 10).Select(i => _cache.Put($"blob {i}")).ToArray();
        _cache.Time.Now = CacheFolder.T0.AddHours(1);
        // Blob 0 is the oldest, but a request just touched it: the pass must take a blob no one asked for instead.
        _cache.Access(blobs[0], CacheFolder.T0.AddHours(2));

        _cache.Eviction(capacity: 10_000).RunPass();

        Assert.True(_cache.Store.Contains(blobs[0]));
    }

    [Fact]
    public void A_pinned_image_keeps_its_index_every_child_manifest_config_and_layer()
    {
        var (amd64, amd64Blobs) = _cache.PutImage("amd64");
        var (arm64, arm64Blobs) = _cache.PutImage("arm64");
        var index = _cache.PutJson(CacheFolder.IndexJson([amd64, arm64]), MediaTypes.OciIndex);
        var image = new PinnedImage("harbor.test", RepositoryName.Parse("library/app"), "1");
        _cache.Index.Tags.Upsert(image.Registry, image.Repository, image.Reference, new TagRecord(index, MediaTypes.OciIndex, 400, CacheFolder.T0));
        _cache.Time.Now = CacheFolder.T0.AddHours(1);
        var others = Enumerable.Range(0, 4).Select(i => _cache.Put($"other {i}")).ToArray();
        _cache.Pins.Pin(image);
        Digest[] imageDigests = [index, amd64, arm64, .. amd64Blobs, .. arm64Blobs];

        var eviction = _cache.Eviction(capacity: 1000);
        eviction.RunPass();

        Assert.All(imageDigests, digest => Assert.True(_cache.Store.Contains(digest), $"{digest} was evicted"));
        Assert.All(others, digest => Assert.False(_cache.Store.Contains(digest)));
        Assert.Equal(imageDigests.Length, eviction.Usage().PinnedBlobs);
    }

    [Fact]
    public void Evicting_on_request_refuses_pinned_and_served_blobs_and_removes_the_rest()
    {
        var pinned = _cache.Put("pinned");
        var pinnedForPod = _cache.Put("pinned-for-pod");
        var served = _cache.Put("served");
        var plain = _cache.Put("plain");
        _cache.Pins.Pin(pinned);
        _cache.PodPins.Replace("test-pods", [pinnedForPod]);
        var eviction = _cache.Eviction(capacity: 1L << 30);
        Assert.True(_cache.Store.Leases.TryAcquire(served, out var lease));

        using (lease)
        {
            Assert.Equal(EvictionResult.Pinned, eviction.Evict(pinned));
            Assert.Equal(EvictionResult.PinnedForPod, eviction.Evict(pinnedForPod));
            Assert.Equal(EvictionResult.InUse, eviction.Evict(served));
        }
        Assert.Equal(EvictionResult.Evicted, eviction.Evict(plain));
        Assert.Equal(EvictionResult.NotCached, eviction.Evict(plain));
        Assert.Equal(EvictionResult.Evicted, eviction.Evict(served));
        Assert.Equal(2, eviction.Usage().Evictions);
    }

    [Fact]
    public void Evicting_an_image_on_request_removes_its_manifest_config_and_layers_but_not_blobs_another_pin_keeps()
    {
        var (manifest, blobs) = _cache.PutImage("app");
        var other = _cache.Put("other");
        _cache.Pins.Pin(blobs[1]);
        var image = new PinnedImage("harbor.test", RepositoryName.Parse("library/app"), manifest.ToString());

        var results = _cache.Eviction(capacity: 1L << 30).Evict(image);

        Assert.Equal(EvictionResult.Pinned, results[blobs[1]]);
        Assert.Equal(EvictionResult.Evicted, results[manifest]);
        Assert.True(_cache.Store.Contains(blobs[1]));
        Assert.False(_cache.Store.Contains(manifest));
        Assert.False(_cache.Store.Contains(blobs[0]));
        Assert.True(_cache.Store.Contains(other));
    }

    [Fact]
    public void Freeing_up_space_evicts_the_oldest_blobs_whatever_the_quota()
    {
        var blobs = Enumerable.Range(0, 5).Select(i => _cache.Put($"blob {i}")).ToArray();

        var pass = _cache.Eviction(capacity: 1L << 30).FreeUp(1500);

        Assert.Equal(2, pass.Evicted);
        Assert.Equal(3000, _cache.Store.UsedBytes);
    }

    [Fact]
    public void A_leased_blob_cannot_be_removed_and_a_blob_being_removed_cannot_be_leased()
    {
        var digest = _cache.Put("blob");
        Assert.True(_cache.Store.Leases.TryAcquire(digest, out var lease));
        Assert.Equal(BlobRemoval.InUse, _cache.Store.TryRemove(digest));
        lease.Dispose();
        Assert.False(_cache.Store.Leases.IsHeld(digest));

        Assert.True(_cache.Store.Leases.TryBeginRemoval(digest));
        Assert.False(_cache.Store.Leases.TryAcquire(digest, out _));
        _cache.Store.Leases.EndRemoval(digest);
        Assert.True(_cache.Store.Leases.TryAcquire(digest, out var again));
        again.Dispose();
    }
}
