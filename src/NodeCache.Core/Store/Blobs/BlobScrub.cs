using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Store.Index;

namespace NodeCache.Store.Blobs;

/// <summary>What one scrub pass over the cache did.</summary>
public readonly record struct ScrubPass(int Checked, int Corrupt, long Bytes, TimeSpan Elapsed);

/// <summary>
/// Hashes cached blobs again, no faster than a given rate so that serving keeps the disk: a blob whose bytes (or size) are
/// no longer its digest's (a bad sector, a stray write) is moved to quarantine and forgotten, and the next request for it
/// fetches it again. A blob being served is hashed like any other; quarantine waits for its responses to end.
/// </summary>
public sealed class BlobScrub(BlobStore store, BlobIndex index, ILogger logger)
{
    // 1 MiB reads: large enough for sequential disk throughput, small enough that the rate limit pauses often and evenly.
    private const int ChunkSize = 1 << 20;

    private long _checked;
    private long _corrupt;

    /// <summary>Blobs hashed since start.</summary>
    public long Checked => Interlocked.Read(ref _checked);

    /// <summary>Blobs found corrupt and quarantined since start.</summary>
    public long Corrupt => Interlocked.Read(ref _corrupt);

    /// <summary>Hashes every blob indexed when the pass starts, at most <paramref name="bytesPerSecond"/>.</summary>
    public async Task<ScrubPass> RunPassAsync(long bytesPerSecond, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        var clock = Stopwatch.StartNew();
        var digests = index.Entries().Select(e => e.Key).ToList();
        int checkedNow = 0, corruptNow = 0;
        long bytes = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            foreach (var digest in digests)
            {
                if (!store.TryPeek(digest, out var blob))
                {
                    continue;
                }
                var verdict = await VerifyAsync(blob, buffer, bytesPerSecond, clock, () => bytes, b => bytes += b, cancellationToken).ConfigureAwait(false);
                if (verdict is null)
                {
                    continue;
                }
                checkedNow++;
                Interlocked.Increment(ref _checked);
                if (verdict == false)
                {
                    await QuarantineAsync(digest, cancellationToken).ConfigureAwait(false);
                    corruptNow++;
                    Interlocked.Increment(ref _corrupt);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var pass = new ScrubPass(checkedNow, corruptNow, bytes, clock.Elapsed);
        logger.LogInformation("Scrub pass: {Checked} blobs ({Bytes} bytes) hashed, {Corrupt} corrupt and quarantined, in {Elapsed} s",
            pass.Checked, pass.Bytes, pass.Corrupt, (long)pass.Elapsed.TotalSeconds);
        return pass;
    }

    /// <summary>True when the file is the digest's, false when not, null when it went away meanwhile (evicted).</summary>
    private static async Task<bool?> VerifyAsync(
        CachedBlob blob, byte[] buffer, long bytesPerSecond, Stopwatch clock, Func<long> total, Action<long> add, CancellationToken cancellationToken)
    {
        try
        {
            using var file = File.OpenHandle(blob.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
            if (RandomAccess.GetLength(file) != blob.Size)
            {
                return false;
            }
            using var hash = blob.Digest.Algorithm.CreateHash();
            long offset = 0;
            int read;
            while ((read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, ChunkSize), offset, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                offset += read;
                add(read);
                var due = TimeSpan.FromSeconds((double)total() / bytesPerSecond) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }
            }
            return Digest.FromHash(hash) == blob.Digest;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException)
        {
            // The disk cannot read it back: as bad as wrong bytes.
            return false;
        }
    }

    private async Task QuarantineAsync(Digest digest, CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (store.Quarantine(digest))
            {
                case BlobRemoval.InUse:
                    // Someone is reading it now; they get what they get (their client verifies the digest), the next one must not.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
                    continue;
                case BlobRemoval.Removed:
                    logger.LogError("Blob {Digest} no longer matches its digest: moved to quarantine; the next request fetches it again", digest);
                    return;
                default:
                    return;
            }
        }
    }
}
