using Microsoft.Win32.SafeHandles;
using NodeCache.Oci;

using NodeCache.Upstream;

namespace NodeCache.Fill;

/// <summary>How a fill stands: still receiving, verified and in the cache, or abandoned.</summary>
public enum FillState
{
    Running,
    Committed,
    Failed,
}

/// <summary>One upstream download of one blob, written to a file that any number of readers follow as it grows.</summary>
public sealed class BlobFill
{
    private readonly Lock _pathGate = new();
    private readonly TaskCompletionSource<FillState> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _progress = NewSignal();
    private string _path;
    private long _written;
    private volatile FillState _state;
    private volatile bool _complete;
    private Concurrency.BandwidthLimit? _throttle;
    private BlobOrigin? _origin;
    private long _fromPeers;
    private long _firstPeerByte = long.MaxValue;

    internal BlobFill(Digest digest, long? size, string mediaType, string tempPath)
    {
        Digest = digest;
        Size = size;
        MediaType = mediaType;
        _path = tempPath;
        TempPath = tempPath;
    }

    internal string TempPath { get; }

    /// <summary>The pace a prefetch set for this fill; null once a pull is waiting for it.</summary>
    internal Concurrency.BandwidthLimit? Throttle
    {
        get => Volatile.Read(ref _throttle);
        set => Volatile.Write(ref _throttle, value);
    }

    /// <summary>Whose credentials the fill's upstream requests carry, resumes included; null for the agent's own.</summary>
    internal PullIdentity? Identity { get; init; }

    public Digest Digest { get; }

    /// <summary>Where the fill takes its bytes from now: the upstream, or another agent.</summary>
    public BlobOrigin? Origin
    {
        get => Volatile.Read(ref _origin);
        internal set => Volatile.Write(ref _origin, value);
    }

    /// <summary>
    /// Set when the fill failed because another agent sent wrong bytes: the fill that fetches the blob again from the
    /// upstream, which a reader of this one may follow instead of giving up.
    /// </summary>
    public Task<BlobSource>? Superseded { get; internal set; }

    /// <summary>The size the upstream announced, or null when it sent no Content-Length.</summary>
    public long? Size { get; }

    public string MediaType { get; }

    public long Written => Volatile.Read(ref _written);

    /// <summary>Of the bytes written, those another agent sent (the rest came from the upstream).</summary>
    public long FromPeers => Interlocked.Read(ref _fromPeers);

    public FillState State => _state;

    public string? FailureReason { get; private set; }

    /// <summary>Every byte is written, verified and in the blob's place in the cache: readers may send the whole body.</summary>
    public bool Complete => _complete;

    /// <summary>Completes when the fill is committed (indexed) or has failed.</summary>
    public Task<FillState> Ended => _ended.Task;

    /// <summary>
    /// How the blob's fetch ends: this fill's end, or, when it failed because another agent sent wrong bytes, the end of the
    /// fill from the upstream that replaced it.
    /// </summary>
    public async Task<FillState> SettledAsync(CancellationToken cancellationToken)
    {
        var state = await Ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (state != FillState.Failed || Superseded is not { } retry)
        {
            return state;
        }
        var source = await retry.WaitAsync(cancellationToken).ConfigureAwait(false);
        return source.Cached is not null ? FillState.Committed : source.Fill is { } next ? await next.SettledAsync(cancellationToken).ConfigureAwait(false) : FillState.Failed;
    }

    /// <summary>Opens the fill's file for reading wherever it is now: the temp file, or the blob's place once complete.</summary>
    /// <param name="options"><see cref="FileOptions.Asynchronous"/> for a handle a socket sends from.</param>
    public SafeFileHandle OpenRead(FileOptions options = FileOptions.None)
    {
        lock (_pathGate)
        {
            return File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, options);
        }
    }

    /// <summary>
    /// Waits until bytes from <paramref name="position"/> on may be sent, and returns where they end for now. The last byte
    /// (of the blob, or of <paramref name="endExclusive"/>) is held back until the fill is <see cref="Complete"/>, so a
    /// client never receives a complete-looking body the digest does not name. With <paramref name="holdPeerBytes"/>, every
    /// byte from the first one another agent sent is held back too until then. Returns <paramref name="position"/> itself
    /// once the complete blob ends there.
    /// </summary>
    /// <param name="holdPeerBytes">
    /// For containerd: it keeps what it received of a broken download and resumes it with a Range, so a wrong byte it was
    /// sent stays in its ingest and fails the commit of every retry. Bytes from the upstream are trusted as they come; bytes
    /// from another agent only once the blob is verified. Another agent, which verifies what it receives, need not wait.
    /// </param>
    /// <exception cref="FillFailedException">The fill failed.</exception>
    public async ValueTask<long> SendableAsync(long position, long? endExclusive, CancellationToken cancellationToken, bool holdPeerBytes = false)
    {
        while (true)
        {
            // Complete before bytes: once complete, the written count read after it is final. Bytes before the first
            // peer byte: it is published before the count that includes it.
            var complete = _complete;
            var written = Written;
            var sendable = Math.Min(endExclusive ?? long.MaxValue, written);
            if (!complete)
            {
                sendable--; // the last byte waits for the digest check
                if (holdPeerBytes)
                {
                    sendable = Math.Min(sendable, Interlocked.Read(ref _firstPeerByte));
                }
            }
            if (position < sendable || complete)
            {
                return Math.Max(position, sendable);
            }
            if (_state == FillState.Failed)
            {
                throw new FillFailedException(Digest, FailureReason);
            }
            await WaitForProgressAsync(written, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes once more than <paramref name="known"/> bytes are written, or the fill is complete or has ended.</summary>
    public Task WaitForProgressAsync(long known, CancellationToken cancellationToken)
    {
        // Read the signal before the state: a writer publishes bytes first and swaps the signal second,
        // so either the check below sees the new bytes or the signal we hold is completed by the swap.
        var signal = Volatile.Read(ref _progress);
        if (Written > known || _complete || _state != FillState.Running)
        {
            return Task.CompletedTask;
        }
        return signal.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Bytes from another agent, written from <paramref name="at"/> on and not yet published by <see cref="Advance"/>.</summary>
    internal void ReceivedFromPeers(long at, long bytes)
    {
        Interlocked.CompareExchange(ref _firstPeerByte, at, long.MaxValue);
        Interlocked.Add(ref _fromPeers, bytes);
    }

    internal void Advance(long written)
    {
        Volatile.Write(ref _written, written);
        Signal();
    }

    /// <summary>Moves the verified file into its place in the cache and lets readers send every byte. The move runs under
    /// the path lock, so a reader that opens the file meanwhile finds it at one path or the other, never at neither.</summary>
    /// <param name="moveIntoPlace">Renames the temp file into the cache and returns its new path.</param>
    internal void Finish(Func<string> moveIntoPlace)
    {
        lock (_pathGate)
        {
            _path = moveIntoPlace();
        }
        _complete = true;
        Signal();
    }

    /// <summary>The file is on disk and indexed: the fill ends.</summary>
    internal void Commit() => End(FillState.Committed);

    internal void Fail(string reason)
    {
        FailureReason = reason;
        End(FillState.Failed);
    }

    private void End(FillState state)
    {
        _state = state;
        Signal();
        _ended.TrySetResult(state);
    }

    private void Signal() => Interlocked.Exchange(ref _progress, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
