using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Fill;

/// <summary>What a blob request gets: the cached file, a fill in progress to follow, or the reason there is neither.</summary>
public readonly record struct BlobSource(CachedBlob? Cached, BlobFill? Fill, MirrorError? Error);

/// <summary>
/// Starts at most one upstream download per digest and lets every concurrent request for it follow the same fill.
/// A fill runs to its end whatever its readers do: a client that goes away does not waste what others wait for.
/// </summary>
public sealed class BlobFills
{
    // 128 KiB: large enough that hashing and the positional write amortise their per-call cost, small enough to stay out of the LOH.
    private const int CopyBufferSize = 128 * 1024;

    private readonly ConcurrentDictionary<Digest, Task<BlobSource>> _inFlight = new();
    private readonly BlobStore _store;
    private readonly CacheLayout _layout;
    private readonly RegistryClient _upstream;
    private readonly MirrorMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;

    public BlobFills(BlobStore store, CacheLayout layout, RegistryClient upstream, MirrorMetrics metrics, ILogger logger, CancellationToken stopping)
    {
        _store = store;
        _layout = layout;
        _upstream = upstream;
        _metrics = metrics;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>Fills in progress now.</summary>
    public int Count => _inFlight.Count;

    /// <summary>Joins the fill of <paramref name="digest"/> in progress, or starts one from <paramref name="route"/>.</summary>
    /// <param name="requestAborted">Ends this caller's wait only; the fill goes on.</param>
    public Task<BlobSource> JoinOrStartAsync(UpstreamRoute route, RepositoryName repository, Digest digest, CancellationToken requestAborted)
    {
        if (_inFlight.TryGetValue(digest, out var running))
        {
            _metrics.Request("blob", "coalesced");
            return running.WaitAsync(requestAborted);
        }
        var started = new TaskCompletionSource<BlobSource>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inFlight.TryAdd(digest, started.Task))
        {
            return JoinOrStartAsync(route, repository, digest, requestAborted);
        }
        _ = Task.Run(() => RunAsync(route, repository, digest, started), CancellationToken.None);
        return started.Task.WaitAsync(requestAborted);
    }

    private async Task RunAsync(UpstreamRoute route, RepositoryName repository, Digest digest, TaskCompletionSource<BlobSource> started)
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
            using var response = await _upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Get, repository, RegistryObject.Blob, digest.ToString()), _stopping).ConfigureAwait(false);
            _metrics.UpstreamRequest(route.Registry, (int?)response.StatusCode);
            if (response.Outcome != UpstreamOutcome.Success || response.Message is null)
            {
                _logger.LogInformation("Upstream has no blob {Digest} in {Registry}/{Repository}: {Outcome} {Reason}", digest, route.Registry, repository, response.Outcome, response.FailureReason);
                _inFlight.TryRemove(new(digest, started.Task));
                started.SetResult(new BlobSource(null, null, MirrorError.FromUpstream(response, OciErrorCode.BlobUnknown, $"blob {digest}")));
                return;
            }
            var content = response.Message.Content;
            var fill = new BlobFill(digest, content.Headers.ContentLength, content.Headers.ContentType?.MediaType ?? MediaTypes.OctetStream, _layout.NewTempPath(digest));
            await CopyAsync(route, fill, content, started).ConfigureAwait(false);
        }
        catch (Exception ex) when (!started.Task.IsCompleted)
        {
            _logger.LogWarning(ex, "Fill of {Digest} from {Registry} could not start", digest, route.Registry);
            _inFlight.TryRemove(new(digest, started.Task));
            started.SetResult(new BlobSource(null, null, new MirrorError(System.Net.HttpStatusCode.ServiceUnavailable, OciErrorCode.Unavailable, $"could not fetch blob {digest}: {ex.Message}")));
        }
        finally
        {
            _metrics.FillEnded();
        }
    }

    private async Task CopyAsync(UpstreamRoute route, BlobFill fill, HttpContent content, TaskCompletionSource<BlobSource> started)
    {
        var tempPath = fill.TempPath;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using (var file = File.OpenHandle(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
                // Readers may open the file only once it exists.
                started.SetResult(new BlobSource(null, fill, null));
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var body = await content.ReadAsStreamAsync(_stopping).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    long written = 0;
                    int read;
                    while ((read = await body.ReadAsync(buffer, _stopping).ConfigureAwait(false)) > 0)
                    {
                        if (written + read > fill.Size)
                        {
                            throw new FillAbandonedException("size_mismatch", $"upstream sent more than the {fill.Size} bytes it announced");
                        }
                        hash.AppendData(buffer, 0, read);
                        await RandomAccess.WriteAsync(file, buffer.AsMemory(0, read), written, _stopping).ConfigureAwait(false);
                        written += read;
                        _metrics.UpstreamBytes(route.Registry, read);
                        fill.Advance(written);
                    }
                    if (fill.Size is { } size && written != size)
                    {
                        throw new FillAbandonedException("size_mismatch", $"upstream sent {written} of the {size} bytes it announced");
                    }
                    Span<byte> actual = stackalloc byte[Digest.HashSize];
                    hash.GetHashAndReset(actual);
                    if (Digest.FromHash(actual) != fill.Digest)
                    {
                        throw new FillAbandonedException("digest_mismatch", $"upstream bytes hash to {Digest.FromHash(actual)}");
                    }
                    RandomAccess.FlushToDisk(file);
                }
            }
            var cached = _store.Commit(tempPath, fill.Digest, fill.Written, fill.MediaType);
            fill.Commit(cached.Path);
            _logger.LogInformation("Cached blob {Digest} ({Size} bytes) from {Registry}", fill.Digest, cached.Size, route.Registry);
        }
        catch (Exception ex)
        {
            var reason = ex switch
            {
                FillAbandonedException abandoned => abandoned.Reason,
                IOException when ex.InnerException is null && ex is not HttpIOException => "disk",
                _ => "upstream",
            };
            _metrics.FillFailed(reason);
            _logger.LogWarning("Fill of {Digest} from {Registry} abandoned after {Written} bytes ({Reason}): {Message}", fill.Digest, route.Registry, fill.Written, reason, ex.Message);
            _store.DiscardTemp(tempPath);
            fill.Fail(ex.Message);
            started.TrySetResult(new BlobSource(null, null, new MirrorError(System.Net.HttpStatusCode.ServiceUnavailable, OciErrorCode.Unavailable, $"could not fetch blob {fill.Digest}")));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _inFlight.TryRemove(new(fill.Digest, started.Task));
        }
    }

    private sealed class FillAbandonedException(string reason, string message) : Exception(message)
    {
        public string Reason { get; } = reason;
    }
}
