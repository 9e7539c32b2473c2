using NodeCache.Oci;

namespace NodeCache.Fill;

/// <summary>
/// One place a fill can take a blob's bytes from: the upstream registry, or another agent of the cluster. A fill asks its
/// origins in order and moves to the next, with a Range from the byte already reached, when one fails, cannot be reached
/// or stalls; the fill itself writes, hashes and verifies whatever arrives, whichever origin sent it.
/// </summary>
public abstract class BlobOrigin
{
    /// <summary>The <see cref="Kind"/> of the upstream registry.</summary>
    public const string UpstreamKind = "upstream";

    /// <summary>The <see cref="Kind"/> of another agent of the cluster.</summary>
    public const string PeerKind = "peer";

    /// <summary>What the bytes count as in metrics: <see cref="UpstreamKind"/> or <see cref="PeerKind"/>.</summary>
    public abstract string Kind { get; }

    /// <summary>The origin in logs: the registry, or the peer's URL.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The last resort, which a fill waits for however slow it is and re-opens after a broken connection (the upstream);
    /// a fill leaves an origin that is not patient at the first stall or sign of being far too slow.
    /// </summary>
    public virtual bool Patient => false;

    /// <summary>
    /// Tried only after the upstream could not answer (unreachable, a 5xx, or breaking off part way): the cluster's agents
    /// that already hold the blob, while the upstream is down, and never in place of an upstream that refused it.
    /// </summary>
    public virtual bool OnlyInOutage => false;

    /// <summary>How many times one fill may resume this origin after its body broke part way (only a patient origin is resumed).</summary>
    public virtual int MaxResumes => 0;

    /// <summary>How long a fill waits for this origin's next bytes, and the rate below which it moves on; null waits as long as it takes.</summary>
    public virtual OriginPace? Pace => null;

    /// <summary>
    /// Asks for the blob from <paramref name="offset"/> on. From offset 0 the answer announces the blob's size; from
    /// further on it must be exactly the rest of a blob of <paramref name="size"/> bytes, or it is no answer.
    /// </summary>
    /// <param name="size">The size the first origin announced; null when opening from the start.</param>
    public abstract Task<OriginAnswer> OpenAsync(Digest digest, long offset, long? size, CancellationToken cancellationToken);

    /// <summary>Counts bytes this origin delivered to the fill.</summary>
    public virtual void Received(long bytes)
    {
    }

    /// <summary>The fill left this origin part way, for <paramref name="reason"/>.</summary>
    public virtual void Left(FallbackReason reason, string detail)
    {
    }

    /// <summary>Bytes this origin sent were part of a blob that did not hash to its digest.</summary>
    public virtual void SentWrongBytes()
    {
    }
}

/// <summary>What a fill expects of an origin that is not its last resort.</summary>
/// <param name="StallTimeout">No bytes for this long (or no answer for this long) is a stall.</param>
/// <param name="MinBytesPerSecond">Slower than this over a whole <paramref name="Window"/> is far too slow.</param>
public sealed record OriginPace(TimeSpan StallTimeout, long MinBytesPerSecond, TimeSpan Window);
