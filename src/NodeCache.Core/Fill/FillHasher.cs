using System.IO.Pipelines;
using NodeCache.Oci;

namespace NodeCache.Fill;

/// <summary>
/// Hashes a fill's bytes on another thread while the next ones are received. The receiver reads the upstream body straight
/// into the pipe's pooled segments, writes them to the file and passes them on; the hash follows a few segments behind.
/// SHA-256 on one core runs close to what a loopback upstream delivers, so hashing in line would add its whole time to
/// the fill's (perf/RESULTS.md#fill-pipe-size).
/// </summary>
internal sealed class FillHasher : IAsyncDisposable
{
    // The harness's cold fill took the same time with 1, 4 and 16 MiB (perf/RESULTS.md#fill-pipe-size): 4 MiB lets the
    // receiver run ahead through an upstream burst and bounds what one fill holds.
    private const long PauseAhead = 4 * 1024 * 1024;

    private readonly Pipe _pipe;
    private readonly Task<Digest> _hashing;
    private bool _completed;

    /// <param name="algorithm">The algorithm of the digest the bytes must match.</param>
    /// <param name="segmentSize">The smallest segment the receiver reads into.</param>
    public FillHasher(DigestAlgorithm algorithm, int segmentSize)
    {
        _pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: PauseAhead, resumeWriterThreshold: PauseAhead / 2, minimumSegmentSize: segmentSize, useSynchronizationContext: false));
        _hashing = Task.Run(() => HashAsync(algorithm, _pipe.Reader));
    }

    /// <summary>A pooled buffer to receive the next bytes into.</summary>
    public Memory<byte> GetMemory(int sizeHint) => _pipe.Writer.GetMemory(sizeHint);

    /// <summary>Hands the first <paramref name="count"/> bytes of the last buffer to the hash; waits while it is too far behind.</summary>
    public async ValueTask AppendAsync(int count, CancellationToken cancellationToken)
    {
        _pipe.Writer.Advance(count);
        await _pipe.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The digest of every byte appended.</summary>
    public async Task<Digest> CompleteAsync()
    {
        _completed = true;
        await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
        return await _hashing.ConfigureAwait(false);
    }

    /// <summary>Stops the hash of an abandoned fill and waits for its thread to let go of the buffers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_completed)
        {
            return;
        }
        await _pipe.Writer.CompleteAsync(new OperationCanceledException("the fill was abandoned")).ConfigureAwait(false);
        try
        {
            await _hashing.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<Digest> HashAsync(DigestAlgorithm algorithm, PipeReader reader)
    {
        using var hash = algorithm.CreateHash();
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    hash.AppendData(segment.Span);
                }
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
        return Digest.FromHash(hash);
    }
}
