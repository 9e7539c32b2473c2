using System.Buffers;
using System.IO.Pipelines;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Fill;

/// <summary>
/// One upstream download of a blob passed to one client and nowhere else, for when the cache disk is full. As with a
/// fill, the last byte is held back until the whole body hashes to the digest, so a wrong body ends as a broken transfer.
/// </summary>
public sealed class PassThroughBlob : IDisposable
{
    // As a fill copies (BlobFills): large enough to amortise the hashing and the write per call.
    private const int CopyBufferSize = 128 * 1024;

    private readonly UpstreamResponse _response;

    internal PassThroughBlob(Digest digest, long size, string mediaType, UpstreamResponse response)
    {
        Digest = digest;
        Size = size;
        MediaType = mediaType;
        _response = response;
    }

    public Digest Digest { get; }

    public long Size { get; }

    public string MediaType { get; }

    /// <summary>Writes the whole body to <paramref name="destination"/>, its last byte only once the digest matched.</summary>
    /// <exception cref="FillFailedException">The upstream broke off or sent bytes the digest does not name: abort the response.</exception>
    public async Task CopyToAsync(PipeWriter destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using var hash = Digest.Algorithm.CreateHash();
            var body = await _response.Message!.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            long received = 0;
            byte tail = 0;
            await using (body.ConfigureAwait(false))
            {
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    received += read;
                    if (received > Size)
                    {
                        throw new FillFailedException(Digest, $"the upstream sent more than the {Size} bytes it announced");
                    }
                    hash.AppendData(buffer, 0, read);
                    var last = received == Size;
                    await destination.WriteAsync(buffer.AsMemory(0, last ? read - 1 : read), cancellationToken).ConfigureAwait(false);
                    tail = buffer[read - 1];
                }
            }
            if (received != Size)
            {
                throw new FillFailedException(Digest, $"the upstream sent {received} of the {Size} bytes it announced");
            }
            if (Digest.FromHash(hash) != Digest)
            {
                throw new FillFailedException(Digest, "the upstream's bytes are not the digest's");
            }
            if (Size > 0)
            {
                await destination.WriteAsync(new[] { tail }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException and not FillFailedException)
        {
            throw new FillFailedException(Digest, ex.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _response.Dispose();
}
