using System.Text.Json;
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
    public async Task<PlanResult> PlanAsync(ImageReference image, NodePlatform platform, PullIdentity? identity, CancellationToken cancellationToken)
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
            using var document = Parse(manifest);
            if (document is null)
            {
                return new PlanResult(null, $"manifest {manifest.Digest} of {image} is not JSON");
            }
            var root = document.RootElement;
            if (IsIndex(manifest.MediaType, root))
            {
                if (depth == MaxIndexDepth || SelectPlatform(root, platform) is not { } chosen)
                {
                    return new PlanResult(null, $"{image} has no manifest for {platform}");
                }
                reference = chosen.ToString();
                continue;
            }
            return Blobs(root) is { } blobs
                ? new PlanResult(new PrefetchPlan(image, resolved, blobs), null)
                : new PlanResult(null, $"manifest {manifest.Digest} of {image} names no valid config and layers");
        }
    }

    private static JsonDocument? Parse(ManifestContent manifest)
    {
        try
        {
            return JsonDocument.Parse(manifest.Bytes);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Some registries serve an index with a generic media type: the `manifests` array tells it apart.
    private static bool IsIndex(string mediaType, JsonElement root) =>
        MediaTypes.IsIndex(mediaType) || (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("manifests", out var list) && list.ValueKind == JsonValueKind.Array);

    private static Digest? SelectPlatform(JsonElement index, NodePlatform platform)
    {
        foreach (var entry in index.GetProperty("manifests").EnumerateArray())
        {
            if (entry.TryGetProperty("platform", out var described) && platform.Matches(described)
                && Descriptor(entry) is { } descriptor)
            {
                return descriptor.Digest;
            }
        }
        return null;
    }

    private static List<PlannedBlob>? Blobs(JsonElement manifest)
    {
        if (manifest.ValueKind != JsonValueKind.Object || !manifest.TryGetProperty("config", out var config) || Descriptor(config) is not { } configBlob)
        {
            return null;
        }
        var blobs = new List<PlannedBlob> { configBlob };
        if (manifest.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array)
        {
            foreach (var layer in layers.EnumerateArray())
            {
                // Foreign layers (Windows base images) carry URLs and are not in the registry: skip what names no fetchable blob.
                if (layer.TryGetProperty("urls", out _) || Descriptor(layer) is not { } blob)
                {
                    continue;
                }
                if (!blobs.Contains(blob))
                {
                    blobs.Add(blob);
                }
            }
        }
        return blobs;
    }

    private static PlannedBlob? Descriptor(JsonElement descriptor) =>
        descriptor.ValueKind == JsonValueKind.Object
        && descriptor.TryGetProperty("digest", out var digest) && digest.ValueKind == JsonValueKind.String
        && Digest.TryParse(digest.GetString(), out var parsed)
        && descriptor.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number && size.TryGetInt64(out var bytes) && bytes >= 0
            ? new PlannedBlob(parsed, bytes)
            : null;
}
