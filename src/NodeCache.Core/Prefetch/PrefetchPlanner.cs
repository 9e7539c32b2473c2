using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Prefetch;

/// <summary>A plan, or why there is none (the upstream refused, the image has no manifest for the node's platform...).</summary>
/// <param name="Denied">The upstream refused the credentials used: others may do.</param>
public readonly record struct PlanResult(PrefetchPlan? Plan, string? Problem, bool Denied = false);

/// <summary>
/// Turns an image reference into a <see cref="PrefetchPlan"/> through the mirror's own <see cref="ManifestResolver"/>: a
/// tag is resolved (and revalidated) exactly as a pull would, an index picks the node's platform, and every manifest
/// read on the way is cached, so the kubelet's resolve that follows is a hit.
/// </summary>
public sealed class PrefetchPlanner(ManifestResolver manifests, UpstreamRules rules)
{
    // An index nested in an index is legal; real images never go deeper than two.
    private const int MaxIndexDepth = 2;

    /// <param name="identity">Whose credentials go upstream: a pod's pull secret, or null for the agent's own.</param>
    public async Task<PlanResult> PlanAsync(ImageReference image, Platform platform, PullIdentity? identity, CancellationToken cancellationToken)
    {
        if (!rules.TryResolve(image.Registry, out var route))
        {
            return new PlanResult(null, $"no upstream is configured for registry {image.Registry}");
        }
        var resolved = new List<Digest>();
        var reference = image.Reference;
        for (var depth = 0; ; depth++)
        {
            var answer = await manifests.ResolveAsync(route, image.Repository, reference, null, cancellationToken, identity).ConfigureAwait(false);
            if (answer.Manifest is not { } manifest)
            {
                return new PlanResult(null, answer.Error?.Message ?? $"manifest {image} could not be resolved",
                    answer.Error?.Status is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden);
            }
            resolved.Add(manifest.Digest);
            if (ImageManifest.TryParse(manifest.Bytes.Span, manifest.MediaType, out var error) is not { } parsed)
            {
                return new PlanResult(null, $"manifest {manifest.Digest} of {image}: {error}");
            }
            if (parsed.IsIndex)
            {
                if (depth == MaxIndexDepth || parsed.ForPlatform(platform) is not { } chosen)
                {
                    return new PlanResult(null, $"{image} has no manifest for {platform}");
                }
                reference = chosen.Digest.ToString();
                continue;
            }
            return parsed.Config is null
                ? new PlanResult(null, $"manifest {manifest.Digest} of {image} names no config")
                : new PlanResult(new PrefetchPlan(image, resolved, [.. parsed.RegistryBlobs.Select(b => new PlannedBlob(b.Digest, b.Size))]), null);
        }
    }
}
