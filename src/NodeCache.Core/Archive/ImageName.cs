using System.Diagnostics.CodeAnalysis;
using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>
/// The repository and tag of an image name as archives write it (<c>harbor.example/library/app:1</c>, <c>library/app:1</c>,
/// <c>nginx:latest</c>, <c>app@sha256:…</c>). The registry host is dropped: the import registers names under the registry it is told.
/// </summary>
internal static class ImageName
{
    public static bool TryParse(string text, string registry, [NotNullWhen(true)] out RepositoryName? repository, out string? tag)
    {
        repository = null;
        tag = null;
        var name = text;
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            name = name[..at];
        }
        else
        {
            var colon = name.LastIndexOf(':');
            if (colon > name.LastIndexOf('/'))
            {
                tag = name[(colon + 1)..];
                name = name[..colon];
                if (!Tag.IsValid(tag))
                {
                    return false;
                }
            }
        }
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        // Docker's rule: a first component with a dot or a port, or "localhost", is a registry host.
        if (slash > 0 && name[..slash] is var first && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"))
        {
            name = name[(slash + 1)..];
        }
        else if (slash < 0 && registry == "docker.io")
        {
            // Docker Hub's official images: "nginx" is "library/nginx", which is what containerd asks for.
            name = "library/" + name;
        }
        return RepositoryName.TryParse(name, out repository);
    }
}
