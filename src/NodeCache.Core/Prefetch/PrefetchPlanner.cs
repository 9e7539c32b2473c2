using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Prefetch;

/// <summary>Why an image has no plan.</summary>
public enum PlanFailure
{
    None,
    NoUpstream,

    /// <summary>The upstream has no such manifest, or the index has no entry for the platform.</summary>
    NotFound,

    /// <summary>The upstream refused the credentials used: others may do.</summary>
    Denied,
    Upstream,
}

/// <summary>A plan, or why there is none (the upstream refused, the image has no manifest for the platform...).</summary>
/// <param name="Manifest">The last manifest resolved before the planning failed, if any.</param>
public readonly record struct PlanResult(PrefetchPlan? Plan, string? Problem, PlanFailure Failure = PlanFailure.None, Digest? Manifest = null)
{
    public bool Denied => Failure == PlanFailure.Denied;
}

/// <summary>
/// Turns an image reference into a <see cref="PrefetchPlan"/> through the mirror's own <see cref="ManifestResolver"/>: a
/// tag is resolved (and revalidated) exactly as a pull would, an index picks the platform's entry, and every manifest
/// read on the way is cached, so the kubelet's resolve that follows is a hit. Prefetch and prewarm both plan with it.
/// </summary>
public sealed class PrefetchPlanner(ManifestResolver manifests, UpstreamRules rules)
{
    // An index nested in an index is legal; real images never go deeper than two.
    private const int MaxIndexDepth = 2;

    /// <param name="identity">Whose credentials go upstream: a pod's pull secret, or null for the agent's own.</param>
    public async Task<PlanResult> PlanAsync(ImageReference image, Platform platform, PullIdentity? identity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!rules.TryResolve(image.Registry, out var route))
        {
            return new PlanResult(null, $"no upstream is configured for registry {image.Registry}", PlanFailure.NoUpstream);
        }
        var resolved = new List<Digest>();
        long fetched = 0, cached = 0;
        var reference = image.Reference;
        for (var depth = 0; ; depth++)
        {
            var answer = await manifests.ResolveAsync(route, image.Repository, reference, null, cancellationToken, identity).ConfigureAwait(false);
            Digest? last = resolved.Count > 0 ? resolved[^1] : null;
            if (answer.Manifest is not { } manifest)
            {
                var failure = answer.Error?.Failure switch
                {
                    MirrorFailure.Unauthorized or MirrorFailure.Denied => PlanFailure.Denied,
                    MirrorFailure.NotFound => PlanFailure.NotFound,
                    _ => PlanFailure.Upstream,
                };
                return new PlanResult(null, Describe(answer.Error) ?? $"manifest {reference} could not be resolved", failure, last);
            }
            resolved.Add(manifest.Digest);
            if (answer.Source == ManifestSource.Upstream)
            {
                fetched += manifest.Bytes.Length;
            }
            else
            {
                cached += manifest.Bytes.Length;
            }
            if (ImageManifest.TryParse(manifest.Bytes.Span, manifest.MediaType, out var error) is not { } parsed)
            {
                return new PlanResult(null, $"manifest {manifest.Digest}: {error}", PlanFailure.Upstream, manifest.Digest);
            }
            if (parsed.IsIndex)
            {
                if (depth == MaxIndexDepth)
                {
                    return new PlanResult(null, $"index {manifest.Digest} is nested deeper than {MaxIndexDepth}", PlanFailure.Upstream, manifest.Digest);
                }
                if (parsed.ForPlatform(platform) is not { } chosen)
                {
                    var available = string.Join(", ", parsed.Manifests.Select(m => m.Platform?.ToString() ?? "unknown"));
                    return new PlanResult(null, $"no {platform} image (it has {available})", PlanFailure.NotFound, manifest.Digest);
                }
                reference = chosen.Digest.ToString();
                continue;
            }
            return parsed.Config is null
                ? new PlanResult(null, $"manifest {manifest.Digest} names no config", PlanFailure.Upstream, manifest.Digest)
                : new PlanResult(new PrefetchPlan(image, resolved, [.. parsed.RegistryBlobs.Select(b => new PlannedBlob(b.Digest, b.Size))], fetched, cached), null);
        }
    }

    // The registry's own words, when it gave any, say more than the status: Harbor names the policy that refused an image.
    private static string? Describe(MirrorError? error) =>
        error is null ? null
        : OciErrorBody.TryRead(error.UpstreamBody, out var said) && said is not null ? $"{error.Message} ({said})"
        : error.Message;
}
