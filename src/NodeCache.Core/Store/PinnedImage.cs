using NodeCache.Oci;

namespace NodeCache.Store;

/// <summary>An image as a user names it: registry, repository and a tag or a digest (<c>docker.io/library/nginx:1.27</c>).</summary>
public sealed record PinnedImage(string Registry, RepositoryName Repository, string Reference)
{
    /// <summary>Parses <c>registry/repository:tag</c> or <c>registry/repository@sha256:…</c>; the registry part is required.</summary>
    public static bool TryParse(string text, out PinnedImage? image)
    {
        image = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return false;
        }
        var registry = text[..slash];
        var rest = text[(slash + 1)..];
        string name;
        string reference;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            (name, reference) = (rest[..at], rest[(at + 1)..]);
            if (!Digest.TryParse(reference, out _))
            {
                return false;
            }
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            if (colon < 0 || rest.IndexOf('/', colon) >= 0)
            {
                return false;
            }
            (name, reference) = (rest[..colon], rest[(colon + 1)..]);
            if (!Tag.IsValid(reference))
            {
                return false;
            }
        }
        if (!RegistryHost.IsValid(registry) || !RepositoryName.TryParse(name, out var repository))
        {
            return false;
        }
        image = new PinnedImage(registry, repository, reference);
        return true;
    }

    public override string ToString() =>
        Digest.TryParse(Reference, out _) ? $"{Registry}/{Repository}@{Reference}" : $"{Registry}/{Repository}:{Reference}";
}
