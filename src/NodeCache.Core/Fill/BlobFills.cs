using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NodeCache.Concurrency;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Fill;

/// <summary>What a blob request gets: the cached file, a fill in progress to follow, or the reason there is neither.</summary>
/// <param name="Joined">The request joined a fill another request started.</param>
/// <param name="DiskFull">No fill was started for want of disk space: <see cref="BlobFills.PassThroughAsync"/> serves the upstream's bytes uncached.</param>
public readonly record struct BlobSource(CachedBlob? Cached, BlobFill? Fill, MirrorError? Error, bool Joined = false, bool DiskFull = false);

/// <summary>What a HEAD of a blob answers: its size and media type, or why there is no such blob.</summary>
/// <param name="Verified">The answer comes from verified bytes on this node, not from the upstream's word.</param>
public readonly record struct BlobHead(long Size, string MediaType, bool Verified, MirrorError? Error = null);

/// <summary>
/// Starts at most one upstream download per digest and lets every concurrent request for it follow the same fill.
/// A fill runs to its end whatever its readers do: a client that goes away does not waste what others wait for.
/// </summary>
public sealed class BlobFills
{
    // Chosen with FillWriterBenchmarks (copy, pwrite, hash on another thread) across chunk sizes: perf/RESULTS.md#fill-chunk-size.
    // It also stays out of the LOH.
    private const int CopyBufferSize = 128 * 1024;

    private readonly ConcurrentDictionary<Digest, Task<BlobSource>> _inFlight = new();
    private readonly BlobStore _store;
    private readonly CacheLayout _layout;
    private readonly RegistryClient _upstream;
    private readonly MirrorMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly DiskSpace? _space;
    private readonly IFillRouting _routing;
    private readonly TransferRates _peerRates = new();

    /// <param name="space">When given, a fill that would not fit is not started and one that hits ENOSPC marks the disk full.</param>
    /// <param name="routing">Where fills take their bytes from; the upstream alone when not given.</param>
    public BlobFills(
        BlobStore store, CacheLayout layout, RegistryClient upstream, MirrorMetrics metrics, ILogger logger, CancellationToken stopping, DiskSpace? space = null, IFillRouting? routing = null)
    {
        _space = space;
        _store = store;
        _layout = layout;
        _upstream = upstream;
        _metrics = metrics;
        _logger = logger;
        _stopping = stopping;
        _routing = routing ?? UpstreamRouting.Instance;
    }

    /// <summary>Fills in progress now.</summary>
    public int Count => _inFlight.Count;

    /// <summary>The fill of <paramref name="digest"/> when it is complete (verified and in place) but not yet indexed.</summary>
    private bool TryGetComplete(Digest digest, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BlobFill? fill)
    {
        fill = TryGetRunning(digest, out var running) && running.Complete ? running : null;
        return fill is not null;
    }

    /// <summary>The fill of <paramref name="digest"/> that has started receiving and has not ended, whatever its origin.</summary>
    public bool TryGetRunning(Digest digest, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BlobFill? fill)
    {
        fill = _inFlight.TryGetValue(digest, out var running) && running.IsCompletedSuccessfully && running.Result.Fill is { State: not FillState.Failed } started
            ? started
            : null;
        return fill is not null;
    }

    /// <summary>True while a fill of <paramref name="digest"/> is starting (asking its first origin) or running.</summary>
    public bool IsFilling(Digest digest) =>
        _inFlight.TryGetValue(digest, out var running) && (!running.IsCompleted || (running.IsCompletedSuccessfully && running.Result.Fill is { State: not FillState.Failed }));

    /// <summary>Joins the fill of <paramref name="digest"/> in progress, or starts one from <paramref name="route"/>.</summary>
    /// <param name="requestAborted">Ends this caller's wait only; the fill goes on.</param>
    /// <param name="throttle">
    /// Paces a fill this call starts (prefetch does, so as not to starve live pulls); a caller without one that joins
    /// a paced fill lifts the pace, since someone is now waiting for it.
    /// </param>
    /// <param name="identity">Whose credentials a fill this call starts goes upstream with, when not the agent's own.</param>
    /// <param name="reach">Where a fill this call starts may look for the bytes; a fill in progress is joined wherever it reads from.</param>
    public Task<BlobSource> JoinOrStartAsync(
        UpstreamRoute route, RepositoryName repository, Digest digest, CancellationToken requestAborted, BandwidthLimit? throttle = null, PullIdentity? identity = null,
        FillReach reach = FillReach.Cluster)
    {
        if (_space is { IsFull: true } && !_space.Recheck())
        {
            return Task.FromResult(new BlobSource(null, null, null, DiskFull: true));
        }
        if (_inFlight.TryGetValue(digest, out var running))
        {
            return JoinAsync(running, throttle is null, requestAborted);
        }
        if (reach == FillReach.InProgress)
        {
            return Task.FromResult(_store.TryGet(digest, out var committed)
                ? new BlobSource(committed, null, null)
                : new BlobSource(null, null, new MirrorError(MirrorFailure.NotFound, OciErrorCode.BlobUnknown, $"blob {digest} is neither cached nor being fetched here")));
        }
        var started = new TaskCompletionSource<BlobSource>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inFlight.TryAdd(digest, started.Task))
        {
            return JoinOrStartAsync(route, repository, digest, requestAborted, throttle, identity, reach);
        }
        var request = new FillRequest(route, repository, digest, identity, reach);
        _ = Task.Run(() => RunAsync(request, throttle, started), CancellationToken.None);
        return started.Task.WaitAsync(requestAborted);
    }

    /// <summary>
    /// For a request that found the disk full: the upstream's body for this one client, not cached and not shared, or
    /// the upstream's error.
    /// </summary>
    public async Task<(PassThroughBlob? Blob, MirrorError? Error)> PassThroughAsync(UpstreamRoute route, RepositoryName repository, Digest digest, CancellationToken requestAborted)
    {
        _space?.CountSkippedFill();
        var response = await _upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Get, repository, RegistryObject.Blob, digest.ToString()), requestAborted).ConfigureAwait(false);
        _metrics.UpstreamRequest(route.Registry, response);
        if (response.Outcome != UpstreamOutcome.Success || response.Message?.Content is not { Headers.ContentLength: { } length } content)
        {
            var error = MirrorError.FromUpstream(response, OciErrorCode.BlobUnknown, $"blob {digest}");
            response.Dispose();
            return (null, error);
        }
        // A Range is answered with the whole blob: a 200 is a valid answer to it, and containerd skips what it has.
        return (new PassThroughBlob(digest, length, content.Headers.ContentType?.MediaType ?? MediaTypes.OctetStream, response), null);
    }

    /// <summary>A HEAD of a blob that is not cached: from a fill that is complete but not yet indexed, or from the upstream's HEAD.</summary>
    public async Task<BlobHead> HeadAsync(UpstreamRoute route, RepositoryName repository, Digest digest, CancellationToken requestAborted)
    {
        if (TryGetComplete(digest, out var complete))
        {
            return new BlobHead(complete.Written, complete.MediaType, Verified: true);
        }
        using var response = await _upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Head, repository, RegistryObject.Blob, digest.ToString()), requestAborted).ConfigureAwait(false);
        _metrics.UpstreamRequest(route.Registry, response);
        return response.Outcome == UpstreamOutcome.Success && response.Message?.Content.Headers.ContentLength is { } length
            ? new BlobHead(length, MediaTypes.OctetStream, Verified: false)
            : new BlobHead(0, MediaTypes.OctetStream, Verified: false, MirrorError.FromUpstream(response, OciErrorCode.BlobUnknown, $"blob {digest}"));
    }

    private static async Task<BlobSource> JoinAsync(Task<BlobSource> running, bool unthrottle, CancellationToken requestAborted)
    {
        var source = await running.WaitAsync(requestAborted).ConfigureAwait(false);
        if (unthrottle && source.Fill is { } fill)
        {
            fill.Throttle = null;
        }
        return source with { Joined = true };
    }

    private async Task RunAsync(FillRequest request, BandwidthLimit? throttle, TaskCompletionSource<BlobSource> started)
    {
        var (route, repository, digest) = (request.Route, request.Repository, request.Digest);
        // A fill that committed just before this one was registered has left the index updated: serve that.
        if (_store.TryGet(digest, out var cached))
        {
            _inFlight.TryRemove(new(digest, started.Task));
            started.SetResult(new BlobSource(cached, null, null));
            return;
        }
        _metrics.FillStarted();
        try
        {
            var chain = new OriginChain(_routing.Origins(request, new UpstreamOrigin(_upstream, route, repository, request.Identity, _metrics, _stopping)));
            var answer = await chain.OpenAsync(digest, 0, null, _stopping).ConfigureAwait(false);
            if (answer.Body is null)
            {
                _logger.LogInformation("No origin has blob {Digest} of {Registry}/{Repository}: {Reason}", digest, route.Registry, repository, answer.Detail);
                _inFlight.TryRemove(new(digest, started.Task));
                started.SetResult(new BlobSource(null, null, answer.Error ?? Unavailable(digest)));
                answer.Dispose();
                return;
            }
            if (_space is not null && !_space.HasRoomFor(answer.Size))
            {
                answer.Dispose();
                _inFlight.TryRemove(new(digest, started.Task));
                started.SetResult(new BlobSource(null, null, null, DiskFull: true));
                return;
            }
            // containerd takes a blob's media type from the manifest: one the index cannot store is not worth failing the fill for.
            var mediaType = answer.MediaType is { } announced && StoredMediaType.IsStorable(announced) ? announced : MediaTypes.OctetStream;
            var fill = new BlobFill(digest, answer.Size, mediaType, _layout.NewTempPath(digest))
            {
                Throttle = throttle,
                Identity = request.Identity,
            };
            await CopyAsync(request, fill, chain, answer, started).ConfigureAwait(false);
        }
        catch (Exception ex) when (!started.Task.IsCompleted)
        {
            _logger.LogWarning(ex, "Fill of {Digest} from {Registry} could not start", digest, route.Registry);
            _inFlight.TryRemove(new(digest, started.Task));
            started.SetResult(new BlobSource(null, null, new MirrorError(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"could not fetch blob {digest}: {ex.Message}")));
        }
        finally
        {
            _metrics.FillEnded();
        }
    }

    private async Task CopyAsync(FillRequest request, BlobFill fill, OriginChain chain, OriginAnswer answer, TaskCompletionSource<BlobSource> started)
    {
        var tempPath = fill.TempPath;
        (FillOutcome Outcome, string Detail) result;
        Microsoft.Win32.SafeHandles.SafeFileHandle? file = null;
        var placed = default(BlobLease);
        try
        {
            file = File.OpenHandle(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            fill.Origin = chain.Current;
            // Readers may open the file only once it exists.
            started.SetResult(new BlobSource(null, fill, null));
            result = await ReceiveAsync(fill, chain, answer, file).ConfigureAwait(false);
            answer = null!;
            if (result.Outcome == FillOutcome.Verified)
            {
                // Readers get the last byte once the file is in place; the record follows only once the bytes are on disk, so
                // that no index (nor any checkpoint of it) names a file a power loss could take. Until then the fill stays in
                // flight, and a request for the blob joins it.
                fill.Finish(() =>
                {
                    placed = _store.MoveIntoPlace(tempPath, fill.Digest, fill.MediaType, out var path);
                    return path;
                });
                await Task.Run(() => RandomAccess.FlushToDisk(file!)).ConfigureAwait(false);
                _store.Index(fill.Digest, fill.Written, fill.MediaType);
                fill.Commit();
                _logger.LogInformation("Cached blob {Digest} ({Size} bytes) from {Origins}", fill.Digest, fill.Written, chain.Contributors);
                return;
            }
        }
        catch (IOException ex)
        {
            NoteDiskFailure(ex);
            result = (FillOutcome.DiskFailed, ex.Message);
        }
        finally
        {
            answer?.Dispose();
            placed.Dispose();
            file?.Dispose();
            _inFlight.TryRemove(new(fill.Digest, started.Task));
        }
        _metrics.FillFailed(FailureReason(result.Outcome));
        _logger.LogWarning("Fill of {Digest} from {Origins} abandoned after {Written} bytes ({Outcome}): {Detail}", fill.Digest, chain.Contributors, fill.Written, result.Outcome, result.Detail);
        _store.DiscardTemp(tempPath);
        if (result.Outcome is FillOutcome.DigestMismatch or FillOutcome.SizeMismatch && chain.PeersContributed)
        {
            // Another agent sent bytes that are not the blob's: it is avoided for a while, and the blob is fetched again from
            // the upstream alone. The new fill is in place before the readers hear of this one's failure, so a reader that
            // follows it (a prewarm, a prefetch, the client's retry) finds the new one.
            chain.BlameContributors();
            fill.Superseded = JoinOrStartAsync(request.Route, request.Repository, fill.Digest, CancellationToken.None, fill.Throttle, request.Identity, FillReach.Upstream);
        }
        fill.Fail($"{result.Outcome}: {result.Detail}");
        started.TrySetResult(new BlobSource(null, null, Unavailable(fill.Digest)));
    }

    /// <summary>
    /// Copies the origins' bytes into the file while <see cref="FillHasher"/> hashes them. A body that breaks part way, stalls
    /// or crawls is continued from the next origin (or the same upstream) with a Range from the byte already reached, when
    /// the size is known; whatever arrived from wherever is verified as one blob at the end.
    /// </summary>
    private async Task<(FillOutcome, string)> ReceiveAsync(BlobFill fill, OriginChain chain, OriginAnswer answer, Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        var hasher = new FillHasher(fill.Digest.Algorithm, CopyBufferSize);
        await using var _ = hasher.ConfigureAwait(false);
        try
        {
            long written = 0;
            while (true)
            {
                FallbackReason? broke = null;
                var detail = "";
                var origin = chain.Current;
                fill.Origin = origin;
                using (answer)
                using (var watch = origin.Pace is { } pace ? new TransferWatch(pace, _peerRates, _stopping) : null)
                {
                    try
                    {
                        while (true)
                        {
                            var buffer = hasher.GetMemory(CopyBufferSize);
                            var read = await answer.Body!.ReadAsync(buffer, watch?.NextRead() ?? _stopping).ConfigureAwait(false);
                            if (read == 0)
                            {
                                break;
                            }
                            if (written + read > fill.Size)
                            {
                                return (FillOutcome.SizeMismatch, $"{origin.Name} sent more than the {fill.Size} bytes announced");
                            }
                            Write(file, buffer.Span[..read], written);
                            if (origin.Kind == BlobOrigin.PeerKind)
                            {
                                fill.ReceivedFromPeers(written, read);
                            }
                            written += read;
                            chain.Received(read);
                            fill.Advance(written);
                            await hasher.AppendAsync(read, _stopping).ConfigureAwait(false);
                            if (fill.Throttle is { } throttle)
                            {
                                await throttle.TakeAsync(read, _stopping).ConfigureAwait(false);
                                watch?.Restart();
                            }
                            else if (watch?.TooSlow(read) is { } slowness)
                            {
                                (broke, detail) = (FallbackReason.Slow, slowness);
                                break;
                            }
                        }
                    }
                    catch (Exception ex) when (ex is not DiskWriteException)
                    {
                        if (_stopping.IsCancellationRequested)
                        {
                            return (FillOutcome.UpstreamFailed, ex.Message);
                        }
                        (broke, detail) = watch?.Stalled == true ? (FallbackReason.Stalled, $"no bytes for {origin.Pace!.StallTimeout.TotalSeconds} s") : (FallbackReason.Failed, ex.Message);
                    }
                }
                if (broke is not { } reason)
                {
                    break;
                }
                if (fill.Size is not { } total)
                {
                    return (FillOutcome.UpstreamFailed, $"{detail}; with no size announced, no origin can continue it");
                }
                chain.Leave(reason, detail);
                try
                {
                    answer = await chain.OpenAsync(fill.Digest, written, total, _stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex)
                {
                    return (FillOutcome.UpstreamFailed, ex.Message);
                }
                if (answer.Body is null)
                {
                    answer.Dispose();
                    return (FillOutcome.UpstreamFailed, $"{detail}; no origin continued it at byte {written}");
                }
                _logger.LogInformation("Fill of {Digest} left {Origin} at byte {Offset} of {Size} ({Reason}: {Detail}); continuing from {Next} with a Range request",
                    fill.Digest, origin.Name, written, total, reason, detail, chain.Current.Name);
            }
            if (fill.Size is { } size && written != size)
            {
                return (FillOutcome.SizeMismatch, $"received {written} of the {size} bytes announced");
            }
            var actual = await hasher.CompleteAsync().ConfigureAwait(false);
            if (actual != fill.Digest)
            {
                return (FillOutcome.DigestMismatch, $"the bytes hash to {actual}");
            }
            return (FillOutcome.Verified, "");
        }
        catch (DiskWriteException ex)
        {
            NoteDiskFailure((IOException)ex.InnerException!);
            return (FillOutcome.DiskFailed, ex.InnerException!.Message);
        }
    }

    private static MirrorError Unavailable(Digest digest) =>
        new(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"could not fetch blob {digest}");

    // Tells a failing disk apart from a failing upstream, which both surface as IOException. The write is synchronous: it
    // lands in the page cache, and an asynchronous one would only move the same pwrite(2) to another thread and back.
    private static void Write(Microsoft.Win32.SafeHandles.SafeFileHandle file, ReadOnlySpan<byte> bytes, long offset)
    {
        try
        {
            RandomAccess.Write(file, bytes, offset);
        }
        catch (IOException ex)
        {
            throw new DiskWriteException(ex);
        }
    }

    private void NoteDiskFailure(IOException exception)
    {
        if (_space is not null && DiskSpace.IsDiskFull(exception))
        {
            _space.MarkFull(exception.Message);
        }
    }

    private static FillFailureReason FailureReason(FillOutcome outcome) => outcome switch
    {
        FillOutcome.SizeMismatch => FillFailureReason.SizeMismatch,
        FillOutcome.DigestMismatch => FillFailureReason.DigestMismatch,
        FillOutcome.DiskFailed => FillFailureReason.Disk,
        _ => FillFailureReason.Upstream,
    };

    private sealed class DiskWriteException(IOException inner) : Exception(inner.Message, inner);
}
