using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>A multi-arch image: an OCI index (or Docker manifest list) over one <see cref="BuiltImage"/> per platform.</summary>
public sealed record BuiltIndex(string Repository, string Tag, BlobFile Index, IReadOnlyList<BuiltImage> Images)
{
    public Digest IndexDigest => Index.Digest;

    public string IndexMediaType => Index.MediaType;

    public byte[] IndexBytes => Index.ReadAllBytes();

    public BuiltImage ForArchitecture(string architecture) => Images.Single(i => i.Architecture == architecture);

    public string Reference(string registryHost) => $"{registryHost}/{Repository}:{Tag}";

    public string DigestReference(string registryHost) => $"{registryHost}/{Repository}@{IndexDigest}";
}
