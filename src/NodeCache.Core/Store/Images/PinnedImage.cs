using NodeCache.Oci;

namespace NodeCache.Store.Images;

/// <summary>An image as a user names it: registry, repository and a tag or a digest (<c>docker.io/library/nginx:1.27</c>).</summary>
public sealed record PinnedImage(string Registry, RepositoryName Repository, string Reference)
{
    /// <summary>The image a reference names, by its digest when it has one (that pins the content), else by its tag.</summary>
    public static PinnedImage From(ImageReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return new PinnedImage(reference.Registry, reference.Repository, reference.Reference);
    }

    public override string ToString() =>
        Digest.TryParse(Reference, out _) ? $"{Registry}/{Repository}@{Reference}" : $"{Registry}/{Repository}:{Reference}";
}
