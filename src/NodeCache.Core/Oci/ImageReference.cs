using System.Diagnostics.CodeAnalysis;

namespace NodeCache.Oci;

/// <summary>
/// An image as a pod or a user names it: <c>[registry/]repository[:tag][@digest]</c>, normalised the way containerd
/// does: no registry means <c>docker.io</c> (or the default registry given), a one-part Docker Hub name gets
/// <c>library/</c>, no tag or digest means <c>latest</c>.
/// </summary>
public sealed record ImageReference(string Registry, RepositoryName Repository, string? Tag, Digest? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The tag or digest a registry is asked for: the digest when there is one, as it pins the content.</summary>
    public string Reference => Digest?.ToString() ?? Tag!;

    public static bool TryParse(string? text, [NotNullWhen(true)] out ImageReference? reference) => TryParse(text, out reference, out _);

    public static bool TryParse(string? text, [NotNullWhen(true)] out ImageReference? reference, out string error) =>
        TryParse(text, DockerHub, out reference, out error);

    /// <summary>As a pod's image is read, except that a name without a registry is for <paramref name="defaultRegistry"/> (the agent's <c>--default-registry</c>).</summary>
    public static bool TryParse(string? text, string defaultRegistry, [NotNullWhen(true)] out ImageReference? reference, out string error)
    {
        reference = null;
        error = "";
        if (string.IsNullOrWhiteSpace(text) || text.Trim() != text)
        {
            error = "an image reference is not empty and has no spaces";
            return false;
        }
        var rest = text;
        Digest? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            if (!Oci.Digest.TryParse(rest.AsSpan(at + 1), out var parsed))
            {
                error = $"'{rest[(at + 1)..]}' is not a digest ({Oci.Digest.Forms})";
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
                error = $"'{tag}' is not a valid tag";
                return false;
            }
        }
        var registry = defaultRegistry;
        var firstSlash = rest.IndexOf('/', StringComparison.Ordinal);
        // The first component is a registry when it looks like a host: it has a dot or a port, or is localhost.
        if (firstSlash > 0 && rest[..firstSlash] is var first && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"))
        {
            registry = first.ToLowerInvariant();
            rest = rest[(firstSlash + 1)..];
            if (!RegistryHost.IsValid(registry))
            {
                error = $"'{first}' is not a registry host[:port]";
                return false;
            }
        }
        if (registry is "index.docker.io" or "registry-1.docker.io")
        {
            registry = DockerHub;
        }
        // Checked as typed: the error names what the user wrote, not a library/ prefix they never typed.
        if (!RepositoryName.TryParse(rest, out var repository))
        {
            error = $"'{rest}' is not a valid repository name";
            return false;
        }
        if (registry == DockerHub && !rest.Contains('/', StringComparison.Ordinal)
            && !RepositoryName.TryParse("library/" + rest, out repository))
        {
            error = $"'{rest}' is too long for a Docker Hub name";
            return false;
        }
        reference = new ImageReference(registry, repository, tag ?? (digest is null ? "latest" : null), digest);
        return true;
    }

    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is { } d ? "@" + d : "")}";
}
