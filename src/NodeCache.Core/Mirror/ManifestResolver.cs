using System.Net;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Store;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>
/// Finds a manifest by tag or digest. A digest, once cached, never needs the upstream again. A tag is revalidated
/// at most once per TTL, and its cached digest is served stale when the upstream is unreachable or failing.
/// </summary>
public sealed class ManifestResolver
{
    private readonly BlobStore _store;
    private readonly TagIndex _tags;
    private readonly RegistryClient _upstream;
    private readonly MirrorMetrics _metrics;
    private readonly MirrorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SingleFlight<string, ManifestAnswer> _fetches = new();
    private readonly ManifestMemory _memory = new();

    public ManifestResolver(BlobStore store, TagIndex tags, RegistryClient upstream, MirrorMetrics metrics, MirrorOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _tags = tags;
        _upstream = upstream;
        _metrics = metrics;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>The manifest <paramref name="reference"/> (a tag or a digest) names in <paramref name="repository"/>.</summary>
    public Task<ManifestAnswer> ResolveAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, CancellationToken cancellationToken)
    {
        if (Digest.TryParse(reference, out var digest))
        {
            return ResolveDigestAsync(route, repository, digest, accept, cancellationToken);
        }
        return ResolveTagAsync(route, repository, reference, accept, cancellationToken);
    }

    private async Task<ManifestAnswer> ResolveDigestAsync(UpstreamRoute route, RepositoryName repository, Digest digest, string? accept, CancellationToken cancellationToken)
    {
        if (await ReadCachedAsync(digest, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return ManifestAnswer.Found(cached, ManifestSource.Cache);
        }
        var key = $"{route.Registry}/{repository}@{digest}";
        return await _fetches.RunAsync(key, () => FetchAsync(route, repository, digest.ToString(), accept, digest), cancellationToken).ConfigureAwait(false);
    }

    private async Task<ManifestAnswer> ResolveTagAsync(UpstreamRoute route, RepositoryName repository, string tag, string? accept, CancellationToken cancellationToken)
    {
        var known = _tags.TryGet(route.Registry, repository, tag, out var record) && MediaTypes.IsAccepted(accept, record.MediaType)
            ? await ReadCachedAsync(record.Digest, cancellationToken).ConfigureAwait(false)
            : null;
        if (known is not null && _time.GetUtcNow() - record.FetchedAt < _options.TagTtl)
        {
            return ManifestAnswer.Found(known, ManifestSource.Cache);
        }
        var key = $"{route.Registry}/{repository}:{tag}|{accept}";
        return await _fetches.RunAsync(key, () => RevalidateTagAsync(route, repository, tag, accept, known), cancellationToken).ConfigureAwait(false);
    }

    // Asks the upstream what the tag names now: a HEAD when we hold a candidate (it costs no body and no pull quota), a GET otherwise.
    private async Task<ManifestAnswer> RevalidateTagAsync(UpstreamRoute route, RepositoryName repository, string tag, string? accept, ManifestContent? known)
    {
        if (known is null)
        {
            return await FetchAsync(route, repository, tag, accept, expected: null).ConfigureAwait(false);
        }
        using var response = await SendAsync(route, HttpMethod.Head, repository, tag, accept).ConfigureAwait(false);
        switch (response.Outcome)
        {
            case UpstreamOutcome.Success:
                var current = HeaderDigest(response);
                if (current == known.Digest)
                {
                    RememberTag(route, repository, tag, known);
                    return ManifestAnswer.Found(known, ManifestSource.Cache);
                }
                if (current is { } moved && await ReadCachedAsync(moved, CancellationToken.None).ConfigureAwait(false) is { } cachedTarget)
                {
                    RememberTag(route, repository, tag, cachedTarget);
                    return ManifestAnswer.Found(cachedTarget, ManifestSource.Cache);
                }
                return await FetchAsync(route, repository, tag, accept, expected: null).ConfigureAwait(false);
            case UpstreamOutcome.Unreachable or UpstreamOutcome.ServerError or UpstreamOutcome.TooManyRequests:
                _logger.LogWarning("Serving {Registry}/{Repository}:{Tag} as {Digest} from cache: upstream {Outcome} ({Reason})", route.Registry, repository, tag, known.Digest, response.Outcome, response.FailureReason);
                return ManifestAnswer.Found(known, ManifestSource.Stale);
            case UpstreamOutcome.NotFound:
                _tags.Delete(route.Registry, repository, tag);
                return ManifestAnswer.Failed(MirrorError.FromUpstream(response, OciErrorCode.ManifestUnknown, $"manifest {repository}:{tag}"));
            default:
                return ManifestAnswer.Failed(MirrorError.FromUpstream(response, OciErrorCode.ManifestUnknown, $"manifest {repository}:{tag}"));
        }
    }

    private async Task<ManifestAnswer> FetchAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, Digest? expected)
    {
        using var response = await SendAsync(route, HttpMethod.Get, repository, reference, accept).ConfigureAwait(false);
        var what = $"manifest {repository}{(expected is null ? ":" : "@")}{reference}";
        if (response.Outcome != UpstreamOutcome.Success || response.Message is null)
        {
            return ManifestAnswer.Failed(MirrorError.FromUpstream(response, OciErrorCode.ManifestUnknown, what));
        }
        var content = response.Message.Content;
        if (content.Headers.ContentLength > MediaTypes.MaxManifestSize)
        {
            return ManifestAnswer.Failed(new MirrorError(HttpStatusCode.BadGateway, OciErrorCode.ManifestInvalid, $"{what} is larger than {MediaTypes.MaxManifestSize} bytes"));
        }
        byte[] bytes;
        try
        {
            bytes = await ReadCappedAsync(content).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidDataException)
        {
            return ManifestAnswer.Failed(new MirrorError(HttpStatusCode.ServiceUnavailable, OciErrorCode.Unavailable, $"could not read {what} from upstream: {ex.Message}"));
        }
        var digest = Digest.Compute(bytes);
        var announced = HeaderDigest(response);
        if ((expected is { } wanted && digest != wanted) || (announced is { } claimed && digest != claimed))
        {
            _logger.LogWarning("Upstream sent {What} whose bytes hash to {Actual}, not {Expected}", what, digest, expected ?? announced);
            return ManifestAnswer.Failed(new MirrorError(HttpStatusCode.BadGateway, OciErrorCode.DigestInvalid, $"upstream sent {what} whose bytes do not match its digest"));
        }
        var mediaType = content.Headers.ContentType?.MediaType ?? MediaTypes.OciManifest;
        if (!_store.Contains(digest))
        {
            _store.Put(digest, bytes, mediaType);
        }
        var manifest = new ManifestContent(digest, mediaType, bytes);
        _memory.Remember(manifest);
        if (expected is null)
        {
            RememberTag(route, repository, reference, manifest);
        }
        return ManifestAnswer.Found(manifest, ManifestSource.Upstream);
    }

    private async Task<UpstreamResponse> SendAsync(UpstreamRoute route, HttpMethod method, RepositoryName repository, string reference, string? accept)
    {
        // Not the client's token: a fill others joined must not end because its first client left.
        var response = await _upstream.SendAsync(new UpstreamRequest(route, method, repository, RegistryObject.Manifest, reference, accept), CancellationToken.None).ConfigureAwait(false);
        _metrics.UpstreamRequest(route.Registry, response);
        return response;
    }

    private void RememberTag(UpstreamRoute route, RepositoryName repository, string tag, ManifestContent manifest) =>
        _tags.Upsert(route.Registry, repository, tag, new TagRecord(manifest.Digest, manifest.MediaType, manifest.Bytes.Length, _time.GetUtcNow()));

    private async Task<ManifestContent?> ReadCachedAsync(Digest digest, CancellationToken cancellationToken)
    {
        // The store decides what is cached (and touches it); memory only spares the file read.
        if (!_store.TryGet(digest, out var blob))
        {
            return null;
        }
        if (_memory.TryGet(digest, out var remembered) && remembered.Bytes.Length == blob.Size)
        {
            return remembered;
        }
        try
        {
            var bytes = await File.ReadAllBytesAsync(blob.Path, cancellationToken).ConfigureAwait(false);
            if (bytes.Length != blob.Size)
            {
                return null;
            }
            var manifest = new ManifestContent(digest, blob.MediaType, bytes);
            _memory.Remember(manifest);
            return manifest;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static Digest? HeaderDigest(UpstreamResponse response) =>
        response.Message is { } message && message.Headers.TryGetValues("Docker-Content-Digest", out var values)
            && Digest.TryParse(values.FirstOrDefault(), out var digest)
            ? digest
            : null;

    private static async Task<byte[]> ReadCappedAsync(HttpContent content)
    {
        var stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MediaTypes.MaxManifestSize)
                {
                    throw new InvalidDataException($"manifest is larger than {MediaTypes.MaxManifestSize} bytes");
                }
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }
}
