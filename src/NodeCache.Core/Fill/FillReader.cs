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
    /// range goes out only once the fill is complete (verified and in place), so a client never receives a complete-looking body
    /// of bytes the digest does not name. Throws <see cref="FillFailedException"/> when the fill fails.
    /// </summary>
    /// <param name="holdPeerBytes">Send bytes another agent sent only once the blob is verified (<see cref="BlobFill.SendableAsync"/>).</param>
    public static async Task CopyAsync(BlobFill fill, ByteRange? range, PipeWriter destination, CancellationToken cancellationToken, bool holdPeerBytes = false)
    {
        using var file = fill.OpenRead();
        var position = range?.First ?? 0;
        long? endExclusive = range is { } r ? r.Last + 1 : fill.Size;
        while (endExclusive is null || position < endExclusive)
        {
            var sendable = await fill.SendableAsync(position, endExclusive, cancellationToken, holdPeerBytes).ConfigureAwait(false);
            if (sendable == position)
            {
                return; // unknown size: the complete file ended here
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
