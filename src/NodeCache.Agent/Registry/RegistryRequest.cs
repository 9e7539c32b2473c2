using System.Diagnostics.CodeAnalysis;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>A validated manifest, blob or listing request: where it goes upstream, for which repository, and what it names (empty for a tag list).</summary>
/// <param name="Digest">The reference parsed as a digest: always for a blob and a referrers listing, for a manifest asked for by digest.</param>
internal sealed record RegistryRequest(RegistryResource Resource, UpstreamRoute Route, RepositoryName Repository, string Reference, Digest? Digest)
{
    /// <summary>
    /// Decodes a path under <c>/v2</c> and the <c>ns</c> containerd sent: the request, or the OCI error it deserves.
    /// <c>/v2/</c> itself and unsupported resources decode to neither; the caller answers those.
    /// </summary>
    public static bool TryDecode(
        string path, string? ns, string defaultRegistry, UpstreamRules rules,
        out RegistryPath parsed, [NotNullWhen(true)] out RegistryRequest? request, out MirrorError? error)
    {
        request = null;
        error = null;
        parsed = RegistryPath.Parse(path);
        if (parsed.Resource is not (RegistryResource.Manifest or RegistryResource.Blob or RegistryResource.TagList or RegistryResource.Referrers))
        {
            return false;
        }
        if (!RepositoryName.TryParse(parsed.Name, out var repository))
        {
            error = new(MirrorFailure.Invalid, OciErrorCode.NameInvalid, $"invalid repository name '{Printable(parsed.Name)}'");
            return false;
        }
        var registry = string.IsNullOrEmpty(ns) ? defaultRegistry : ns.ToLowerInvariant();
        if (!RegistryHost.IsValid(registry))
        {
            error = new(MirrorFailure.Invalid, OciErrorCode.NameInvalid, $"invalid registry '{Printable(registry)}' in ns");
            return false;
        }
        if (!rules.TryResolve(registry, out var route))
        {
            // What was imported for it is served; anything else is a 404 without a wait, so containerd moves on.
            route = UpstreamRoute.CacheOnly(registry);
        }
        var reference = parsed.Reference;
        var isDigest = Oci.Digest.TryParse(reference, out var digest);
        var namesDigest = parsed.Resource is RegistryResource.Blob or RegistryResource.Referrers || Oci.Digest.LooksLikeDigest(reference);
        if (namesDigest && !isDigest)
        {
            error = Invalid(parsed.Resource, reference);
            return false;
        }
        if (parsed.Resource == RegistryResource.Manifest && !isDigest && !Tag.IsValid(reference))
        {
            // A name no tag can have names no manifest: unknown, as the registry answers, not a push's MANIFEST_INVALID.
            error = new(MirrorFailure.NotFound, OciErrorCode.ManifestUnknown, $"manifest unknown: '{Printable(reference)}' is not a valid tag");
            return false;
        }
        request = new RegistryRequest(parsed.Resource, route, repository, reference, isDigest ? digest : null);
        return true;
    }

    // A well-formed digest of an algorithm the cache never stores names nothing it holds: unknown, as the registry answers it,
    // so containerd tries its next host. Anything else that is not a digest is DIGEST_INVALID.
    private static MirrorError Invalid(RegistryResource resource, string reference) =>
        Oci.Digest.IsOfUnstoredAlgorithm(reference)
            ? new(
                MirrorFailure.NotFound,
                resource == RegistryResource.Blob ? OciErrorCode.BlobUnknown : OciErrorCode.ManifestUnknown,
                $"'{Printable(reference)}' is unknown: the cache holds {Oci.Digest.Forms} content only")
            : new(MirrorFailure.Invalid, OciErrorCode.DigestInvalid, $"invalid digest '{Printable(reference)}': expected {Oci.Digest.Forms}");

    // Error messages echo what the client sent; keep them one printable line.
    private static string Printable(string text)
    {
        var clipped = text.Length > 200 ? text[..200] + "…" : text;
        return string.Concat(clipped.Select(c => char.IsControl(c) ? '?' : c));
    }
}
