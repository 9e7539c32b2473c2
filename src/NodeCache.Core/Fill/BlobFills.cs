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

    // A connection that breaks twice in one blob is more likely an upstream that is going down than bad luck.
    private const int MaxResumes = 2;

    private readonly ConcurrentDictionary<Digest, Task<BlobSource>> _inFlight = new();
    private readonly BlobStore _store;
    private readonly CacheLayout _layout;
    private readonly RegistryClient _upstream;
    private readonly MirrorMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly DiskSpace? _space;

    /// <param name="space">When given, a fill that would not fit is not started and one that hits ENOSPC marks the disk full.</param>
    public BlobFills(BlobStore store, CacheLayout layout, RegistryClient upstream, MirrorMetrics metrics, ILogger logger, CancellationToken stopping, DiskSpace? space = null)
    {
        _space = space;
        _store = store;
        _layout = layout;
        _upstream = upstream;
        _metrics = metrics;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>Fills in progress now.</summary>
    public int Count => _inFlight.Count;

    /// <summary>The fill of <paramref name="digest"/> when it is complete (verified and in place) but not yet indexed.</summary>
    private bool TryGetComplete(Digest digest, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BlobFill? fill)
    {
        fill = _inFlight.TryGetValue(digest, out var running) && running.IsCompletedSuccessfully && running.Result.Fill is { Complete: true } complete
            ? complete
            : null;
        return fill is not null;
    }

    /// <summary>Joins the fill of <paramref name="digest"/> in progress, or starts one from <paramref name="route"/>.</summary>
    /// <param name="requestAborted">Ends this caller's wait only; the fill goes on.</param>
    /// <param name="throttle">
    /// Paces a fill this call starts (prefetch does, so as not to starve live pulls); a caller without one that joins
    /// a paced fill lifts the pace, since someone is now waiting for it.
    /// </param>
    /// <param name="identity">Whose credentials a fill this call starts goes upstream with, when not the agent's own.</param>
    public Task<BlobSource> JoinOrStartAsync(
        UpstreamRoute route, RepositoryName repository, Digest digest, CancellationToken requestAborted, BandwidthLimit? throttle = null, PullIdentity? identity = null)
    {
        if (_space is { IsFull: true } && !_space.Recheck())
        {
            return Task.FromResult(new BlobSource(null, null, null, DiskFull: true));
        }
        if (_inFlight.TryGetValue(digest, out var running))
        {
            return JoinAsync(running, throttle is null, requestAborted);
        }
        var started = new TaskCompletionSource<BlobSource>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inFlight.TryAdd(digest, started.Task))
        {
            return JoinOrStartAsync(route, repository, digest, requestAborted, throttle, identity);
        }
        _ = Task.Run(() => RunAsync(route, repository, digest, throttle, identity, started), CancellationToken.None);
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

    private async Task RunAsync(
        UpstreamRoute route, RepositoryName repository, Digest digest, BandwidthLimit? throttle, PullIdentity? identity, TaskCompletionSource<BlobSource> started)
    {
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
            using var response = await _upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Get, repository, RegistryObject.Blob, digest.ToString(), Identity: identity), _stopping).ConfigureAwait(false);
            _metrics.UpstreamRequest(route.Registry, response);
            if (response.Outcome != UpstreamOutcome.Success || response.Message is null)
            {
                _logger.LogInformation("Upstream has no blob {Digest} in {Registry}/{Repository}: {Outcome} {Reason}", digest, route.Registry, repository, response.Outcome, response.FailureReason);
                _inFlight.TryRemove(new(digest, started.Task));
                started.SetResult(new BlobSource(null, null, MirrorError.FromUpstream(response, OciErrorCode.BlobUnknown, $"blob {digest}")));
                return;
            }
            var content = response.Message.Content;
            if (_space is not null && !_space.HasRoomFor(content.Headers.ContentLength))
            {
                _inFlight.TryRemove(new(digest, started.Task));
                started.SetResult(new BlobSource(null, null, null, DiskFull: true));
                return;
            }
            // containerd takes a blob's media type from the manifest: one the index cannot store is not worth failing the fill for.
            var mediaType = content.Headers.ContentType?.MediaType is { } announced && StoredMediaType.IsStorable(announced) ? announced : MediaTypes.OctetStream;
            var fill = new BlobFill(digest, content.Headers.ContentLength, mediaType, _layout.NewTempPath(digest))
            {
                Throttle = throttle,
                Identity = identity,
            };
            await CopyAsync(route, repository, fill, content, started).ConfigureAwait(false);
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

    private async Task CopyAsync(UpstreamRoute route, RepositoryName repository, BlobFill fill, HttpContent content, TaskCompletionSource<BlobSource> started)
    {
        var tempPath = fill.TempPath;
        (FillOutcome Outcome, string Detail) result;
        Microsoft.Win32.SafeHandles.SafeFileHandle? file = null;
        var placed = default(BlobLease);
        try
        {
            file = File.OpenHandle(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            // Readers may open the file only once it exists.
            started.SetResult(new BlobSource(null, fill, null));
            result = await ReceiveAsync(route, repository, fill, content, file).ConfigureAwait(false);
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
                _logger.LogInformation("Cached blob {Digest} ({Size} bytes) from {Registry}", fill.Digest, fill.Written, route.Registry);
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
            placed.Dispose();
            file?.Dispose();
            _inFlight.TryRemove(new(fill.Digest, started.Task));
        }
        _metrics.FillFailed(MetricReason(result.Outcome));
        _logger.LogWarning("Fill of {Digest} from {Registry} abandoned after {Written} bytes ({Outcome}): {Detail}", fill.Digest, route.Registry, fill.Written, result.Outcome, result.Detail);
        _store.DiscardTemp(tempPath);
        fill.Fail($"{result.Outcome}: {result.Detail}");
        started.TrySetResult(new BlobSource(null, null, new MirrorError(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"could not fetch blob {fill.Digest}")));
    }

    /// <summary>
    /// Copies the upstream body into the file while <see cref="FillHasher"/> hashes it. A body that breaks part way is
    /// resumed where it broke with a Range request, when the size is known and the upstream answers it with the matching 206.
    /// </summary>
    private async Task<(FillOutcome, string)> ReceiveAsync(
        UpstreamRoute route, RepositoryName repository, BlobFill fill, HttpContent content, Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        UpstreamResponse? resumed = null;
        var hasher = new FillHasher(CopyBufferSize);
        await using var _ = hasher.ConfigureAwait(false);
        try
        {
            long written = 0;
            var resumes = 0;
            while (true)
            {
                try
                {
                    var body = await content.ReadAsStreamAsync(_stopping).ConfigureAwait(false);
                    await using (body.ConfigureAwait(false))
                    {
                        while (true)
                        {
                            var buffer = hasher.GetMemory(CopyBufferSize);
                            var read = await body.ReadAsync(buffer, _stopping).ConfigureAwait(false);
                            if (read == 0)
                            {
                                break;
                            }
                            if (written + read > fill.Size)
                            {
                                return (FillOutcome.SizeMismatch, $"upstream sent more than the {fill.Size} bytes it announced");
                            }
                            Write(file, buffer.Span[..read], written);
                            written += read;
                            _metrics.UpstreamBytes(route.Registry, read);
                            fill.Advance(written);
                            await hasher.AppendAsync(read, _stopping).ConfigureAwait(false);
                            if (fill.Throttle is { } pace)
                            {
                                await pace.TakeAsync(read, _stopping).ConfigureAwait(false);
                            }
                        }
                    }
                    break;
                }
                catch (Exception ex) when (ex is not DiskWriteException)
                {
                    if (_stopping.IsCancellationRequested || fill.Size is not { } total || written == 0 || resumes == MaxResumes)
                    {
                        return (FillOutcome.UpstreamFailed, ex.Message);
                    }
                    resumes++;
                    resumed?.Dispose();
                    resumed = await ResumeAsync(route, repository, fill, written, total).ConfigureAwait(false);
                    if (resumed?.Message is null)
                    {
                        return (FillOutcome.UpstreamFailed, $"{ex.Message}; the upstream did not resume at byte {written}");
                    }
                    _logger.LogInformation("Fill of {Digest} broke at byte {Offset} of {Size} ({Reason}); resumed with a Range request", fill.Digest, written, total, ex.Message);
                    content = resumed.Message.Content;
                }
            }
            if (fill.Size is { } size && written != size)
            {
                return (FillOutcome.SizeMismatch, $"upstream sent {written} of the {size} bytes it announced");
            }
            var actual = await hasher.CompleteAsync().ConfigureAwait(false);
            if (actual != fill.Digest)
            {
                return (FillOutcome.DigestMismatch, $"upstream bytes hash to {actual}");
            }
            return (FillOutcome.Verified, "");
        }
        catch (DiskWriteException ex)
        {
            NoteDiskFailure((IOException)ex.InnerException!);
            return (FillOutcome.DiskFailed, ex.InnerException!.Message);
        }
        finally
        {
            resumed?.Dispose();
        }
    }

    /// <summary>Asks for the rest of the blob from <paramref name="offset"/>; the answer only when it is a 206 of exactly that rest.</summary>
    private async Task<UpstreamResponse?> ResumeAsync(UpstreamRoute route, RepositoryName repository, BlobFill fill, long offset, long size)
    {
        UpstreamResponse? response = null;
        try
        {
            response = await _upstream.SendAsync(
                new UpstreamRequest(route, HttpMethod.Get, repository, RegistryObject.Blob, fill.Digest.ToString(), RangeStart: offset, Identity: fill.Identity), _stopping).ConfigureAwait(false);
            _metrics.UpstreamRequest(route.Registry, response);
            var range = response.Message?.Content.Headers.ContentRange;
            if (response.Outcome == UpstreamOutcome.Success && response.StatusCode == System.Net.HttpStatusCode.PartialContent
                && range is { From: { } from, To: { } to, Length: { } length } && from == offset && to == size - 1 && length == size)
            {
                var matched = response;
                response = null;
                return matched;
            }
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return null;
        }
        finally
        {
            response?.Dispose();
        }
    }

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

    private static string MetricReason(FillOutcome outcome) => outcome switch
    {
        FillOutcome.SizeMismatch => "size_mismatch",
        FillOutcome.DigestMismatch => "digest_mismatch",
        FillOutcome.DiskFailed => "disk",
        _ => "upstream",
    };

    private sealed class DiskWriteException(IOException inner) : Exception(inner.Message, inner);
}
