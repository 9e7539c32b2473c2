using System.Diagnostics.CodeAnalysis;

namespace NodeCache.Oci;

/// <summary>
/// An image as a pod names it, <c>[registry/]repository[:tag][@digest]</c>, normalised the way containerd does:
/// no registry means <c>docker.io</c>, and a one-component Docker Hub name lives under <c>library/</c>.
/// </summary>
public sealed record ImageReference(string Registry, RepositoryName Repository, string? Tag, Digest? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>What the kubelet's pull asks the mirror for first: the digest when there is one, else the tag (<c>latest</c> when none).</summary>
    public string Reference => Digest?.ToString() ?? Tag ?? "latest";

    public static bool TryParse(string text, [NotNullWhen(true)] out ImageReference? reference)
    {
        reference = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var rest = text.Trim();
        Digest? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            if (!Oci.Digest.TryParse(rest.AsSpan(at + 1), out var parsed))
            {
                return false;
            }
            digest = parsed;
            rest = rest[..at];
        }
        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!Oci.Tag.IsValid(tag))
            {
                return false;
            }
        }
        var registry = DockerHub;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && LooksLikeHost(rest[..slash]))
        {
            registry = rest[..slash].ToLowerInvariant();
            rest = rest[(slash + 1)..];
        }
        if (registry is "index.docker.io" or "registry-1.docker.io")
        {
            registry = DockerHub;
        }
        if (registry == DockerHub && !rest.Contains('/', StringComparison.Ordinal))
        {
            rest = "library/" + rest;
        }
        if (!RegistryHost.IsValid(registry) || !RepositoryName.TryParse(rest, out var repository))
        {
            return false;
        }
        reference = new ImageReference(registry, repository, digest is null ? tag ?? "latest" : tag, digest);
        return true;
    }

    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is { } d ? "@" + d : "")}";

    // Docker's rule: the first component is a host when it has a dot or a port, or is localhost.
    private static bool LooksLikeHost(string component) =>
        component.Contains('.', StringComparison.Ordinal) || component.Contains(':', StringComparison.Ordinal) || component == "localhost";
}
