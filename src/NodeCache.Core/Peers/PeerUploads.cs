using NodeCache.Oci;

namespace NodeCache.Peers;

/// <summary>
/// Bounds the uploads this agent runs at once, of one blob and of all blobs together, and knows who received each blob
/// from here: an agent asking beyond a bound is sent to one of them instead, which serves the blob from its own copy or
/// its own fill in progress. The copies then spread as a tree, each hop streaming, and no agent's network card is shared
/// by more uploads than the bound: an owner of several blobs of one image would otherwise carry each of them to many.
/// </summary>
public sealed class PeerUploads(int perBlob, int perAgent, PeerHealth health, PeerMetrics metrics, TimeProvider time)
{
    // A receiver that started this long ago has the blob or has given up on it: it is sent no more agents from here.
    private static readonly TimeSpan ReceiverLifetime = TimeSpan.FromMinutes(10);

    private readonly Dictionary<Digest, Blob> _blobs = [];
    private readonly Lock _gate = new();
    private int _inFlight;
    private int _begun;

    /// <summary>Uploads in progress, of every blob.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// An upload to <paramref name="requester"/> if it may run now, or the member to send it to instead; with
    /// <paramref name="mustServe"/> (a redirect that led nowhere) it always runs.
    /// </summary>
    public UploadDecision Begin(Digest digest, string requester, bool mustServe)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (++_begun % 256 == 0)
            {
                Sweep(now);
            }
            if (!_blobs.TryGetValue(digest, out var blob))
            {
                blob = new Blob();
                _blobs[digest] = blob;
            }
            blob.Receivers.RemoveAll(r => now - r.Since > ReceiverLifetime);
            if (!mustServe && (blob.Active >= perBlob || _inFlight >= perAgent) && Pick(blob, requester) is { } receiver)
            {
                receiver.Redirects++;
                return new UploadDecision(null, receiver.Id);
            }
            blob.Active++;
            if (!blob.Receivers.Any(r => r.Id == requester))
            {
                blob.Receivers.Add(new Receiver(requester, now));
            }
        }
        Interlocked.Increment(ref _inFlight);
        metrics.UploadStarted();
        return new UploadDecision(new Upload(this, digest, requester), null);
    }

    // The receiver sent the fewest agents so far, earliest first (it holds the most bytes), never the requester itself.
    private Receiver? Pick(Blob blob, string requester) =>
        blob.Receivers.Where(r => r.Id != requester && !health.IsAvoided(r.Id)).OrderBy(r => r.Redirects).ThenBy(r => r.Since).FirstOrDefault();

    private void End(Digest digest, string requester, long bytes)
    {
        lock (_gate)
        {
            if (_blobs.TryGetValue(digest, out var blob))
            {
                blob.Active--;
            }
        }
        Interlocked.Decrement(ref _inFlight);
        metrics.UploadEnded();
        metrics.Sent(bytes);
        health.Sent(requester, bytes);
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (digest, blob) in _blobs.ToList())
        {
            blob.Receivers.RemoveAll(r => now - r.Since > ReceiverLifetime);
            if (blob.Active == 0 && blob.Receivers.Count == 0)
            {
                _blobs.Remove(digest);
            }
        }
    }

    private sealed class Blob
    {
        public int Active { get; set; }

        public List<Receiver> Receivers { get; } = [];
    }

    private sealed class Receiver(string id, DateTimeOffset since)
    {
        public string Id { get; } = id;

        public DateTimeOffset Since { get; } = since;

        public int Redirects { get; set; }
    }

    /// <summary>One upload in progress; dispose it when the response ends.</summary>
    public sealed class Upload : IDisposable
    {
        private readonly PeerUploads _uploads;
        private readonly Digest _digest;
        private readonly string _requester;
        private int _ended;

        internal Upload(PeerUploads uploads, Digest digest, string requester)
        {
            _uploads = uploads;
            _digest = digest;
            _requester = requester;
        }

        /// <summary>Bytes sent so far, counted when the upload ends.</summary>
        public long Bytes { get; set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                _uploads.End(_digest, _requester, Bytes);
            }
        }
    }
}

/// <summary>An upload that may run now, or the member to redirect the request to.</summary>
public readonly record struct UploadDecision(PeerUploads.Upload? Upload, string? RedirectTo);
