using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NodeCache.Concurrency;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Access;

/// <summary>An image a pod on this node names, with the pull-secret credentials that match its registry.</summary>
public sealed record PodImage(ImageReference Image, IReadOnlyList<RegistryCredential> Credentials);

/// <summary>
/// Decides whether the mirror may answer a request for a private repository from its cache. containerd does not give a
/// mirror the pod's pull secret, so the mirror cannot know which pod asks: in <see cref="PrivateImageMode.Verify"/> it
/// serves a private repository only while every pod on this node that names it holds a pull secret the upstream accepted
/// for it (a token for its pull scope and a manifest HEAD with it), and otherwise refuses at once, so containerd goes to
/// the upstream with the pod's own credentials. A repository is private when the upstream refuses an anonymous HEAD. While
/// the upstream cannot answer about a repository it never answered about, another agent's last answer counts, and
/// without one it is private.
/// </summary>
/// <param name="lenders">The cluster's other agents, asked while the upstream cannot answer; null without peers.</param>
public sealed class PrivateImagePolicy(PrivateImageMode mode, RegistryClient upstream, TimeProvider time, ILogger logger, IManifestLenders? lenders = null)
{
    // How long a repository's privacy and a pod's verified access are trusted before the upstream is asked again:
    // a revoked pull secret or a project made private takes effect within this.
    private static readonly TimeSpan CheckLifetime = TimeSpan.FromMinutes(5);

    // When a repository's privacy came from another agent rather than from the upstream.
    private static readonly DateTimeOffset LearnedFromPeer = DateTimeOffset.MinValue;

    private readonly ConcurrentDictionary<string, (bool Private, DateTimeOffset At)> _privacy = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (bool Accepted, DateTimeOffset At)> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<PodImage>> _pods = new(StringComparer.Ordinal);
    private readonly SingleFlight<string, bool> _checks = new();

    public PrivateImageMode Mode => mode;

    public void SetPod(string pod, IReadOnlyList<PodImage> images) => _pods[pod] = images;

    public void RemovePod(string pod)
    {
        _pods.TryRemove(pod, out _);
        foreach (var key in _verified.Keys.Where(k => k.StartsWith(pod + "|", StringComparison.Ordinal)))
        {
            _verified.TryRemove(key, out _);
        }
    }

    /// <summary>True when a request for the repository needs no check: every repository in <see cref="PrivateImageMode.Serve"/>, else one recently found public.</summary>
    public bool IsKnownServable(string registry, RepositoryName repository) =>
        mode == PrivateImageMode.Serve
        || (_privacy.TryGetValue($"{registry}/{repository}", out var known) && !known.Private && time.GetUtcNow() - known.At < CheckLifetime);

    /// <summary>True when the upstream itself last answered an anonymous request for the repository, however long ago: what another agent may be told.</summary>
    public bool IsKnownPublic(string registry, RepositoryName repository) =>
        _privacy.TryGetValue($"{registry}/{repository}", out var known) && !known.Private && known.At != LearnedFromPeer;

    /// <summary>Null when the request may be answered as usual; otherwise the refusal that sends containerd upstream.</summary>
    public async ValueTask<MirrorError?> CheckAsync(UpstreamRoute route, RepositoryName repository, RegistryObject kind, string reference, CancellationToken cancellationToken)
    {
        if (mode == PrivateImageMode.Serve || !await IsPrivateAsync(route, repository, kind, reference, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        if (mode == PrivateImageMode.Passthrough)
        {
            return Refusal(route, repository, "private repositories are not served from this node's cache");
        }
        var holders = _pods.Where(p => p.Value.Any(i => Names(i.Image, route.Registry, repository))).ToList();
        if (holders.Count == 0)
        {
            return Refusal(route, repository, "no pod on this node names this private repository");
        }
        foreach (var (pod, images) in holders)
        {
            var image = images.First(i => Names(i.Image, route.Registry, repository));
            if (!await AcceptedAsync(pod, route, image, cancellationToken).ConfigureAwait(false))
            {
                logger.LogInformation("Not serving private {Registry}/{Repository} from cache: pod {Pod} holds no pull secret the upstream accepts for it", route.Registry, repository, pod);
                return Refusal(route, repository, "a pod on this node that names this private repository holds no pull secret the upstream accepts for it");
            }
        }
        return null;
    }

    /// <summary>True when the upstream refuses anonymous pulls of the repository (or cannot say and never could).</summary>
    public async ValueTask<bool> IsPrivateAsync(UpstreamRoute route, RepositoryName repository, RegistryObject kind, string reference, CancellationToken cancellationToken)
    {
        var key = $"{route.Registry}/{repository}";
        if (_privacy.TryGetValue(key, out var known) && time.GetUtcNow() - known.At < CheckLifetime)
        {
            return known.Private;
        }
        // One anonymous HEAD answers every request that arrives while it runs: a busy node's requests would otherwise each
        // send their own the moment the last answer expires.
        return await _checks.RunAsync(key, () => AskAsync(route, repository, kind, reference, key), cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> AskAsync(UpstreamRoute route, RepositoryName repository, RegistryObject kind, string reference, string key)
    {
        var now = time.GetUtcNow();
        _privacy.TryGetValue(key, out var known);
        using var response = await upstream.SendAsync(new UpstreamRequest(route, HttpMethod.Head, repository, kind, reference, Identity: PullIdentity.Anonymous), CancellationToken.None).ConfigureAwait(false);
        bool isPrivate;
        switch (response.Outcome)
        {
            case UpstreamOutcome.Denied:
                isPrivate = true;
                break;
            case UpstreamOutcome.Success or UpstreamOutcome.NotFound:
                isPrivate = false;
                break;
            case UpstreamOutcome.NoUpstream:
                // No registry guards it: what the cache holds was imported onto the node, for the node's pods.
                return false;
            default:
                // The upstream cannot say now: keep what it said last; when it never said, what another agent last heard from
                // it; and fail closed when nobody heard.
                if (known == default && lenders is not null
                    && (await lenders.AskAsync(route, repository, reference, null, CancellationToken.None).ConfigureAwait(false)).RepositoryPublic)
                {
                    // Already expired: the upstream is asked first again at the next request.
                    _privacy[key] = (false, LearnedFromPeer);
                    logger.LogInformation("{Registry}/{Repository} is public as another agent last heard from the upstream, which cannot answer now", route.Registry, repository);
                    return false;
                }
                return known == default || known.Private;
        }
        _privacy[key] = (isPrivate, now);
        logger.LogDebug("{Registry}/{Repository} is {Privacy}", route.Registry, repository, isPrivate ? "private" : "public");
        return isPrivate;
    }

    private async ValueTask<bool> AcceptedAsync(string pod, UpstreamRoute route, PodImage image, CancellationToken cancellationToken)
    {
        var key = $"{pod}|{route.Registry}/{image.Image.Repository}";
        var now = time.GetUtcNow();
        if (_verified.TryGetValue(key, out var known) && now - known.At < CheckLifetime)
        {
            return known.Accepted;
        }
        var accepted = false;
        foreach (var credential in image.Credentials)
        {
            using var response = await upstream.SendAsync(
                new UpstreamRequest(route, HttpMethod.Head, image.Image.Repository, RegistryObject.Manifest, image.Image.Reference, Identity: PullIdentity.Of(credential)),
                cancellationToken).ConfigureAwait(false);
            if (response.Outcome is UpstreamOutcome.Success)
            {
                accepted = true;
                break;
            }
        }
        _verified[key] = (accepted, now);
        return accepted;
    }

    private static bool Names(ImageReference image, string registry, RepositoryName repository) =>
        image.Registry == registry && image.Repository == repository;

    private static MirrorError Refusal(UpstreamRoute route, RepositoryName repository, string why) =>
        new(MirrorFailure.Denied, OciErrorCode.Denied, $"{route.Registry}/{repository}: {why}; pull it from the upstream registry");
}
