using System.Buffers;

namespace NodeCache.Upstream;

/// <summary>Reads a body only up to a limit: error and token bodies are small, and an upstream that sends more must not make us buffer it.</summary>
internal static class BoundedBody
{
    /// <summary>At most <paramref name="limit"/> bytes of the body, and whether that was all of it.</summary>
    /// <remarks>
    /// HttpClient's timeout ends with the headers, so a body that trickles or stalls is bounded by <paramref name="timeout"/>;
    /// running out of it throws an OperationCanceledException while <paramref name="cancellationToken"/> is not cancelled.
    /// </remarks>
    public static async Task<(byte[] Bytes, bool Complete)> ReadAsync(HttpContent content, int limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        cancellationToken = deadline.Token;
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var collected = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            while (collected.Length <= limit)
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return (collected.ToArray(), true);
                }
                collected.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var bytes = collected.GetBuffer().AsSpan(0, limit).ToArray();
        return (bytes, false);
    }
}
