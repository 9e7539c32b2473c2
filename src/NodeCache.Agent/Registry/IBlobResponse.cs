using System.Net;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store.Blobs;

namespace NodeCache.Agent.Registry;

/// <summary>
/// Where <see cref="BlobResponder"/> sends its answer: Kestrel's HTTP pipeline (<see cref="KestrelBlobResponse"/>), or the
/// socket of a connection the fast path holds (<see cref="SocketBlobResponse"/>). Each knows how to write; none decides what.
/// </summary>
internal interface IBlobResponse
{
    /// <summary>A HEAD: headers only.</summary>
    bool IsHead { get; }

    IPAddress? Client { get; }

    /// <summary>Cancelled when the client goes away.</summary>
    CancellationToken Aborted { get; }

    /// <summary>Sends a leased cached blob, or the one range of it the request asked for.</summary>
    /// <returns>The body bytes delivered; 0 when the connection broke.</returns>
    Task<long> SendCachedAsync(CachedBlob blob);

    /// <summary>Sends a blob of known <paramref name="size"/> as its fill writes it.</summary>
    /// <param name="holdPeerBytes">Bytes another agent sent go out only once the blob is verified (for containerd).</param>
    /// <returns>The body bytes delivered; 0 when the connection broke.</returns>
    /// <exception cref="FillFailedException">The fill failed: <see cref="Abort"/> the response.</exception>
    Task<long> SendFillAsync(BlobFill fill, long size, bool holdPeerBytes);

    /// <summary>Sends the upstream's bytes for this client only.</summary>
    /// <exception cref="FillFailedException">The bytes broke off or are not the digest's: <see cref="Abort"/> the response.</exception>
    Task<long> SendPassThroughAsync(PassThroughBlob blob);

    /// <summary>Answers a HEAD with the blob's headers.</summary>
    Task SendHeadAsync(Digest digest, string mediaType, long size);

    Task SendErrorAsync(MirrorError error);

    /// <summary>Breaks the connection: a body that cannot end honestly must never look complete.</summary>
    void Abort();
}
