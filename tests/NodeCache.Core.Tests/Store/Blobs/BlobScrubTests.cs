using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Blobs;

namespace NodeCache.Core.Tests.Store.Blobs;

public sealed class BlobScrubTests : IDisposable
{
    private readonly CacheFolder _cache = new();

    public void Dispose() => _cache.Dispose();

    [Theory]
    [InlineData(DigestAlgorithm.Sha256)]
    [InlineData(DigestAlgorithm.Sha512)]
    public async Task A_blob_whose_bytes_changed_on_disk_is_quarantined_counted_and_no_longer_served(DigestAlgorithm algorithm)
    {
        var good = _cache.Put("good", 10_000, algorithm: algorithm);
        var flipped = _cache.Put("flipped", 10_000, algorithm: algorithm);
        var path = _cache.Layout.BlobPath(flipped);
        var bytes = File.ReadAllBytes(path);
        bytes[5000] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var scrub = new BlobScrub(_cache.Store, _cache.Index.Blobs, NullLogger.Instance);

        var pass = await scrub.RunPassAsync(bytesPerSecond: 1L << 30, CancellationToken.None);

        Assert.Equal(new ScrubPass(2, 1, 20_000, pass.Elapsed), pass);
        Assert.Equal(1, scrub.Corrupt);
        Assert.False(_cache.Store.TryGet(flipped, out _));
        Assert.False(File.Exists(path));
        Assert.Single(Directory.GetFiles(_cache.Layout.QuarantineDirectory), f => Path.GetFileName(f).StartsWith(flipped.Hex, StringComparison.Ordinal));
        Assert.True(_cache.Store.TryGet(good, out _));
        Assert.Equal(10_000, _cache.Store.UsedBytes);
    }

    [Fact]
    public async Task The_scrub_reads_no_faster_than_its_rate()
    {
        for (var i = 0; i < 4; i++)
        {
            _cache.Put($"blob {i}", 64 * 1024);
        }
        var scrub = new BlobScrub(_cache.Store, _cache.Index.Blobs, NullLogger.Instance);

        // 256 KiB at 512 KiB/s: the rate limit is the only thing that can make this pass take half a second.
        var pass = await scrub.RunPassAsync(bytesPerSecond: 512 * 1024, CancellationToken.None);

        Assert.Equal(4, pass.Checked);
        Assert.True(pass.Elapsed >= TimeSpan.FromSeconds(0.45), $"took {pass.Elapsed}");
    }

    [Fact]
    public async Task A_corrupt_blob_being_served_is_quarantined_once_its_response_ends()
    {
        var digest = _cache.Put("flipped", 1000);
        var path = _cache.Layout.BlobPath(digest);
        File.WriteAllBytes(path, new byte[1000]);
        var scrub = new BlobScrub(_cache.Store, _cache.Index.Blobs, NullLogger.Instance);
        Assert.True(_cache.Store.Leases.TryAcquire(digest, out var lease));

        var pass = scrub.RunPassAsync(bytesPerSecond: 1L << 30, CancellationToken.None);
        await Task.Delay(300);
        Assert.False(pass.IsCompleted);
        Assert.True(File.Exists(path));
        lease.Dispose();

        Assert.Equal(1, (await pass.WaitAsync(TimeSpan.FromSeconds(10))).Corrupt);
        Assert.False(File.Exists(path));
    }
}
