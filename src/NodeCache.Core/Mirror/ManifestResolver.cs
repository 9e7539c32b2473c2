using Microsoft.Extensions.Logging;
using NodeCache.Concurrency;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>
/// Finds a manifest by tag or digest. A tag is revalidated at most once per TTL; a manifest by digest once per
/// revalidation window, per repository, because the upstream's policies (a CVE, a missing signature, a deletion) may
/// refuse bytes that have not changed. Cached manifests are served stale when the upstream is unreachable or failing,
/// never when it denied them: a denial is passed to the client as the upstream gave it and remembered until the
/// upstream allows the manifest again. With peers, a manifest this agent does not hold is borrowed from another agent
/// under the same rule while the upstream cannot answer, unless any agent holds it as denied.
/// </summary>
public sealed class ManifestResolver
{
    private readonly BlobStore _store;
    private readonly TagIndex _tags;
    private readonly RegistryClient _upstream;
    private readonly MirrorMetrics _metrics;
    private readonly PolicyMetrics _policy;
    private readonly MirrorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ManifestVerdicts _verdicts;
    private readonly SingleFlight<string, ManifestAnswer> _fetches = new();
    private readonly ManifestMemory _memory = new();
    private readonly IManifestLenders? _lenders;

    /// <param name="lenders">The cluster's other agents, asked while the upstream cannot answer; null without peers.</param>
    public ManifestResolver(
        BlobStore store, TagIndex tags, RegistryClient upstream, MirrorMetrics metrics, PolicyMetrics policy, MirrorOptions options, TimeProvider time, ILogger logger,
        IManifestLenders? lenders = null)
    {
        _lenders = lenders;
        _store = store;
        _tags = tags;
        _upstream = upstream;
        _metrics = metrics;
        _policy = policy;
        _options = options;
        _time = time;
        _logger = logger;
        _verdicts = new ManifestVerdicts(options.DenialsPath, logger);
    }

    /// <summary>The manifest <paramref name="reference"/> (a tag or a digest) names in <paramref name="repository"/>.</summary>
    /// <param name="identity">Whose credentials go upstream when the agent's own should not (a pod's pull secret).</param>
    public ValueTask<ManifestAnswer> ResolveAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, CancellationToken cancellationToken, PullIdentity? identity = null)
    {
        if (!route.HasUpstream)
        {
            return ResolveCachedAsync(route, repository, reference, accept, cancellationToken);
        }
        if (Digest.TryParse(reference, out var digest))
        {
            return ResolveDigestAsync(route, repository, digest, accept, identity, cancellationToken);
        }
        return ResolveTagAsync(route, repository, reference, accept, identity, cancellationToken);
    }

    // No upstream to ask: the cache's answer is the only one, and it never goes stale.
    private async ValueTask<ManifestAnswer> ResolveCachedAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, CancellationToken cancellationToken)
    {
        var cached = Digest.TryParse(reference, out var digest)
            ? await ReadCachedAsync(digest, cancellationToken).ConfigureAwait(false)
            : _tags.TryGet(route.Registry, repository, reference, out var record) && MediaTypes.IsAccepted(accept, record.MediaType)
                ? await ReadCachedAsync(record.Digest, cancellationToken).ConfigureAwait(false)
                : null;
        if (cached is null)
        {
            using var none = UpstreamResponse.NoUpstream(route.Registry);
            return ManifestAnswer.Failed(MirrorError.FromUpstream(none, OciErrorCode.ManifestUnknown, $"manifest {repository}{(Digest.LooksLikeDigest(reference) ? "@" : ":")}{reference}"));
        }
        return ManifestAnswer.Found(cached, ManifestSource.Cache);
    }

    private async ValueTask<ManifestAnswer> ResolveDigestAsync(UpstreamRoute route, RepositoryName repository, Digest digest, string? accept, PullIdentity? identity, CancellationToken cancellationToken)
    {
        var key = ManifestVerdicts.Key(route.Registry, repository, digest.ToString());
        if (await ReadCachedAsync(digest, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            if (_verdicts.IsAllowedWithin(key, _options.ManifestRevalidation, _time.GetUtcNow()))
            {
                return ManifestAnswer.Found(cached, ManifestSource.Cache);
            }
            return await _fetches.RunAsync($"?{key}|{identity?.Key}", () => RevalidateDigestAsync(route, repository, digest, accept, cached, key, identity), cancellationToken).ConfigureAwait(false);
        }
        return await _fetches.RunAsync($"{key}|{identity?.Key}", () => FetchAsync(route, repository, digest.ToString(), accept, digest, identity), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<ManifestAnswer> ResolveTagAsync(UpstreamRoute route, RepositoryName repository, string tag, string? accept, PullIdentity? identity, CancellationToken cancellationToken)
    {
        var known = _tags.TryGet(route.Registry, repository, tag, out var record) && MediaTypes.IsAccepted(accept, record.MediaType)
            && !IsDenied(route, repository, tag, record.Digest)
            ? await ReadCachedAsync(record.Digest, cancellationToken).ConfigureAwait(false)
            : null;
        if (known is not null && _time.GetUtcNow() - record.FetchedAt < _options.TagTtl)
        {
            return ManifestAnswer.Found(known, ManifestSource.Cache);
        }
        var key = $"{route.Registry}/{repository}:{tag}|{accept}|{identity?.Key}";
        return await _fetches.RunAsync(key, () => RevalidateTagAsync(route, repository, tag, accept, known, identity), cancellationToken).ConfigureAwait(false);
    }

    // Asks whether the cached manifest may still be pulled from this repository: a HEAD, which costs no body and no pull quota.
    private async Task<ManifestAnswer> RevalidateDigestAsync(UpstreamRoute route, RepositoryName repository, Digest digest, string? accept, ManifestContent cached, string key, PullIdentity? identity)
    {
        using (var response = await SendAsync(route, HttpMethod.Head, repository, digest.ToString(), accept, identity).ConfigureAwait(false))
        {
            if (response.Outcome == UpstreamOutcome.Success)
            {
                _verdicts.Allow(key, _time.GetUtcNow());
                _policy.Revalidated("digest", "allowed");
                return ManifestAnswer.Found(cached, ManifestSource.Cache);
            }
            if (IsOutage(response.Outcome))
            {
                _verdicts.Defer(key, _time.GetUtcNow());
                return ServeStale(key, null, cached, "digest", $"{route.Registry}/{repository}@{digest}", response);
            }
        }
        // A denial: a HEAD carries no body, so the registry's own words come from one GET, which also records the denial.
        var answer = await FetchAsync(route, repository, digest.ToString(), accept, digest, identity).ConfigureAwait(false);
        _policy.Revalidated("digest", answer.Error is null ? "allowed" : "denied");
        return answer;
    }

    // Asks the upstream what the tag names now: a HEAD when we hold a candidate (it costs no body and no pull quota), a GET otherwise.
    private async Task<ManifestAnswer> RevalidateTagAsync(UpstreamRoute route, RepositoryName repository, string tag, string? accept, ManifestContent? known, PullIdentity? identity)
    {
        if (known is null)
        {
            return await FetchAsync(route, repository, tag, accept, expected: null, identity).ConfigureAwait(false);
        }
        using (var response = await SendAsync(route, HttpMethod.Head, repository, tag, accept, identity).ConfigureAwait(false))
        {
            if (response.Outcome == UpstreamOutcome.Success)
            {
                var current = HeaderDigest(response);
                if (current == known.Digest)
                {
                    RememberTag(route, repository, tag, known);
                    _policy.Revalidated("tag", "allowed");
                    return ManifestAnswer.Found(known, ManifestSource.Cache);
                }
                _policy.Revalidated("tag", "changed");
                if (current is { } moved && await ReadCachedAsync(moved, CancellationToken.None).ConfigureAwait(false) is { } cachedTarget)
                {
                    RememberTag(route, repository, tag, cachedTarget);
                    return ManifestAnswer.Found(cachedTarget, ManifestSource.Cache);
                }
                return await FetchAsync(route, repository, tag, accept, expected: null, identity).ConfigureAwait(false);
            }
            if (IsOutage(response.Outcome))
            {
                var digestKey = ManifestVerdicts.Key(route.Registry, repository, known.Digest.ToString());
                return ServeStale(ManifestVerdicts.Key(route.Registry, repository, tag), digestKey, known, "tag", $"{route.Registry}/{repository}:{tag}", response);
            }
        }
        var answer = await FetchAsync(route, repository, tag, accept, expected: null, identity).ConfigureAwait(false);
        _policy.Revalidated("tag", answer.Error is null ? "changed" : "denied");
        return answer;
    }

    // The upstream cannot answer: the cached manifest is served, unless the upstream's last answer about it was a denial.
    private ManifestAnswer ServeStale(string key, string? digestKey, ManifestContent cached, string kind, string what, UpstreamResponse response)
    {
        if (_verdicts.TryGetDenial(key, out var denial) || (digestKey is not null && _verdicts.TryGetDenial(digestKey, out denial)))
        {
            _policy.Revalidated(kind, "denied");
            return ManifestAnswer.Failed(denial.ToError());
        }
        _logger.LogWarning("Serving {What} as {Digest} from cache: upstream {Outcome} ({Reason})", what, cached.Digest, response.Outcome, response.FailureReason);
        _policy.Revalidated(kind, "stale");
        return ManifestAnswer.Found(cached, ManifestSource.Stale);
    }

    private bool IsDenied(UpstreamRoute route, RepositoryName repository, string tag, Digest digest) =>
        _verdicts.HasDenials && DenialOf(route, repository, tag, digest) is not null;

    // The upstream's last refusal of the reference, or of the digest it names.
    private MirrorError? DenialOf(UpstreamRoute route, RepositoryName repository, string reference, Digest? digest) =>
        _verdicts.TryGetDenial(ManifestVerdicts.Key(route.Registry, repository, reference), out var denial)
        || (digest is { } named && _verdicts.TryGetDenial(ManifestVerdicts.Key(route.Registry, repository, named.ToString()), out denial))
            ? denial.ToError()
            : null;

    /// <summary>
    /// What this agent holds of a manifest for another agent, whose upstream cannot answer: its cached copy, or the
    /// upstream's denial when it holds the reference or the digest it names as denied. Never asks the upstream.
    /// </summary>
    public async ValueTask<ManifestLoan> LendAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, CancellationToken cancellationToken)
    {
        DateTimeOffset? fetchedAt = null;
        if (!Digest.TryParse(reference, out var digest))
        {
            if (!_tags.TryGet(route.Registry, repository, reference, out var record) || !MediaTypes.IsAccepted(accept, record.MediaType))
            {
                return DenialOf(route, repository, reference, null) is { } tagDenial ? new ManifestLoan(null, null, tagDenial) : default;
            }
            (digest, fetchedAt) = (record.Digest, record.FetchedAt);
        }
        if (DenialOf(route, repository, reference, digest) is { } denial)
        {
            return new ManifestLoan(null, null, denial);
        }
        // Only what was stored as a manifest: a layer's digest names a file that is no manifest and may be gigabytes.
        if (!_store.TryGet(digest, out var blob) || blob.Size > MediaTypes.MaxManifestSize || !MediaTypes.IsManifest(blob.MediaType))
        {
            return default;
        }
        return await ReadCachedAsync(digest, cancellationToken).ConfigureAwait(false) is { } cached ? new ManifestLoan(cached, fetchedAt, null) : default;
    }

    // The upstream cannot answer and this agent holds no copy: another agent's copy is served under the rule of stale
    // serving, never one that any agent holds as denied, and kept, so that the next request revalidates it as its own.
    private async Task<ManifestAnswer> BorrowAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, Digest? expected, MirrorError outage)
    {
        var answer = await _lenders!.AskAsync(route, repository, reference, accept, CancellationToken.None).ConfigureAwait(false);
        var what = $"{route.Registry}/{repository}{(expected is null ? ":" : "@")}{reference}";
        if (answer.Denial is { } denied)
        {
            _logger.LogWarning("Not serving {What} from another agent: an agent holds it as denied ({Status})", what, denied.UpstreamStatus);
            return ManifestAnswer.Failed(denied);
        }
        if (answer.Manifest is not { } manifest || (expected is { } wanted && manifest.Digest != wanted))
        {
            return ManifestAnswer.Failed(outage);
        }
        if (DenialOf(route, repository, reference, manifest.Digest) is { } own)
        {
            return ManifestAnswer.Failed(own);
        }
        if (!_store.Contains(manifest.Digest))
        {
            _store.Put(manifest.Digest, manifest.Bytes.ToArray(), manifest.MediaType);
        }
        _memory.Remember(manifest);
        if (expected is null)
        {
            // As old as the lender's word from the upstream, and not allowed here: once older than the tag TTL, the upstream is asked first.
            _tags.Upsert(route.Registry, repository, reference, new TagRecord(manifest.Digest, manifest.MediaType, manifest.Bytes.Length, answer.FetchedAt ?? DateTimeOffset.UnixEpoch));
        }
        _logger.LogWarning("Serving {What} as {Digest} from agent {Lender}: {Outage}", what, manifest.Digest, answer.Lender, outage.Message);
        _policy.Revalidated(expected is null ? "tag" : "digest", "stale");
        return ManifestAnswer.Found(manifest, ManifestSource.Peer);
    }

    private async Task<ManifestAnswer> FetchAsync(UpstreamRoute route, RepositoryName repository, string reference, string? accept, Digest? expected, PullIdentity? identity)
    {
        using var response = await SendAsync(route, HttpMethod.Get, repository, reference, accept, identity).ConfigureAwait(false);
        var what = $"manifest {repository}{(expected is null ? ":" : "@")}{reference}";
        if (response.Outcome != UpstreamOutcome.Success || response.Message is null)
        {
            var error = MirrorError.FromUpstream(response, OciErrorCode.ManifestUnknown, what);
            if (!IsOutage(response.Outcome))
            {
                RememberDenial(route, repository, reference, expected, error);
                return ManifestAnswer.Failed(error);
            }
            // A pod's own pull secret went upstream: no other agent holds it, so no other agent's copy is this pod's to have.
            return _lenders is null || identity is not null
                ? ManifestAnswer.Failed(error)
                : await BorrowAsync(route, repository, reference, accept, expected, error).ConfigureAwait(false);
        }
        var content = response.Message.Content;
        if (content.Headers.ContentLength > MediaTypes.MaxManifestSize)
        {
            return ManifestAnswer.Failed(new MirrorError(MirrorFailure.BadUpstream, OciErrorCode.ManifestInvalid, $"{what} is larger than {MediaTypes.MaxManifestSize} bytes"));
        }
        byte[] bytes;
        try
        {
            bytes = await ReadCappedAsync(content).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidDataException)
        {
            return ManifestAnswer.Failed(new MirrorError(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"could not read {what} from upstream: {ex.Message}"));
        }
        var announced = HeaderDigest(response);
        // Hashed by the algorithm of the digest asked for, or else of the one the upstream names: a tag of a sha512 manifest
        // is cached and answered under its sha512 digest, as the upstream answers it.
        var digest = Digest.Compute((expected ?? announced)?.Algorithm ?? DigestAlgorithm.Sha256, bytes);
        if ((expected is { } wanted && digest != wanted)
            || (announced is { } claimed && (claimed.Algorithm == digest.Algorithm ? claimed != digest : !claimed.Matches(bytes))))
        {
            _logger.LogWarning("Upstream sent {What} whose bytes hash to {Actual}, not {Expected}", what, digest, expected ?? announced);
            return ManifestAnswer.Failed(new MirrorError(MirrorFailure.BadUpstream, OciErrorCode.DigestInvalid, $"upstream sent {what} whose bytes do not match its digest"));
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
        else
        {
            _verdicts.Allow(ManifestVerdicts.Key(route.Registry, repository, reference), _time.GetUtcNow());
        }
        return ManifestAnswer.Found(manifest, ManifestSource.Upstream);
    }

    // Remembered only for what the cache holds (a cold 404 is a routine miss, and remembering every one would grow without bound).
    private void RememberDenial(UpstreamRoute route, RepositoryName repository, string reference, Digest? expected, MirrorError error)
    {
        var key = ManifestVerdicts.Key(route.Registry, repository, reference);
        var held = expected is { } digest
            ? _store.Contains(digest)
            : _tags.Delete(route.Registry, repository, reference);
        if (held || _verdicts.TryGetDenial(key, out _) || error.Failure != MirrorFailure.NotFound)
        {
            _verdicts.Deny(key, error, _time.GetUtcNow());
            _policy.Denied(route.Registry, error.UpstreamStatus);
            _logger.LogWarning("Upstream denies {Reference} ({Status}); not served from cache until it allows it again", key, error.UpstreamStatus);
        }
    }

    private static bool IsOutage(UpstreamOutcome outcome) =>
        outcome is UpstreamOutcome.Unreachable or UpstreamOutcome.ServerError or UpstreamOutcome.TooManyRequests;

    private async Task<UpstreamResponse> SendAsync(UpstreamRoute route, HttpMethod method, RepositoryName repository, string reference, string? accept, PullIdentity? identity)
    {
        // Not the client's token: a fill others joined must not end because its first client left.
        var response = await _upstream.SendAsync(new UpstreamRequest(route, method, repository, RegistryObject.Manifest, reference, accept, Identity: identity), CancellationToken.None).ConfigureAwait(false);
        _metrics.UpstreamRequest(route.Registry, response);
        return response;
    }

    // The upstream just named this manifest for the tag: both the tag and the digest it names are allowed now.
    private void RememberTag(UpstreamRoute route, RepositoryName repository, string tag, ManifestContent manifest)
    {
        var now = _time.GetUtcNow();
        _tags.Upsert(route.Registry, repository, tag, new TagRecord(manifest.Digest, manifest.MediaType, manifest.Bytes.Length, now));
        _verdicts.Allow(ManifestVerdicts.Key(route.Registry, repository, tag), now);
        _verdicts.Allow(ManifestVerdicts.Key(route.Registry, repository, manifest.Digest.ToString()), now);
    }

    private async ValueTask<ManifestContent?> ReadCachedAsync(Digest digest, CancellationToken cancellationToken)
    {
        // The store decides what is cached (and is touched); memory spares the file's stat and read, as its bytes were
        // verified when read. The stat was the largest part of a hit's own CPU time (perf/RESULTS.md#manifest-hits-from-memory).
        if (_memory.TryGet(digest, out var remembered) && _store.TryTouch(digest, remembered.Bytes.Length))
        {
            return remembered;
        }
        if (!_store.TryGet(digest, out var blob))
        {
            return null;
        }
        try
        {
            var bytes = await File.ReadAllBytesAsync(blob.Path, cancellationToken).ConfigureAwait(false);
            // A damaged file reads as a miss: the manifest is fetched again and its file replaced.
            if (bytes.Length != blob.Size || !digest.Matches(bytes))
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
