using System.IO.Pipelines;
using NodeCache.Oci;

namespace NodeCache.Fill;

/// <summary>Copies a range of a blob that is still being filled to a client as the bytes arrive.</summary>
public static class FillReader
{
    // Kestrel's pipe segments are 4 KiB; asking for 64 KiB keeps one read syscall per flush without holding much memory per reader.
    private const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Writes <paramref name="range"/> (or the whole blob when null) to <paramref name="destination"/>. The last byte of the
    /// range goes out only once the fill is verified and committed, so a client never receives a complete-looking body
    /// of bytes the digest does not name. Throws <see cref="FillFailedException"/> when the fill fails.
    /// </summary>
    public static async Task CopyAsync(BlobFill fill, ByteRange? range, PipeWriter destination, CancellationToken cancellationToken)
    {
        using var file = fill.OpenRead();
        var position = range?.First ?? 0;
        long? endExclusive = range is { } r ? r.Last + 1 : fill.Size;
        while (endExclusive is null || position < endExclusive)
        {
            // State before bytes: once committed, the written count read after it is final.
            var state = fill.State;
            var written = fill.Written;
            var sendable = Math.Min(endExclusive ?? long.MaxValue, written);
            if (state != FillState.Committed)
            {
                sendable--; // the last byte waits for the digest check
            }
            if (position >= sendable)
            {
                switch (state)
                {
                    case FillState.Failed:
                        throw new FillFailedException(fill.Digest, fill.FailureReason);
                    case FillState.Committed:
                        return; // unknown size: the committed file ended here
                    case FillState.Running when endExclusive is { } end && written >= end:
                        await fill.Ended.WaitAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        await fill.WaitForProgressAsync(written, cancellationToken).ConfigureAwait(false);
                        break;
                }
                continue;
            }
            var want = (int)Math.Min(ChunkSize, sendable - position);
            var memory = destination.GetMemory(want)[..want];
            var read = await RandomAccess.ReadAsync(file, memory, position, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new FillFailedException(fill.Digest, "the fill's file is shorter than what was written");
            }
            destination.Advance(read);
            position += read;
            var flush = await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                return;
            }
        }
    }
}
