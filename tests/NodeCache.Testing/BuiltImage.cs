using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>
/// A single-platform image the builder made: its manifest, config and layers with real digests and sizes. Its files
/// live until the <see cref="OciImageBuilder"/> that made it is disposed.
/// </summary>
public sealed record BuiltImage(
    string Repository,
    string? Tag,
    string Architecture,
    BlobFile Manifest,
    BlobFile Config,
    IReadOnlyList<BlobFile> Layers,
    IReadOnlyList<Digest> DiffIds)
{
    public Digest ManifestDigest => Manifest.Digest;

    public string ManifestMediaType => Manifest.MediaType;

    public byte[] ManifestBytes => Manifest.ReadAllBytes();

    /// <summary>The config, then the layers: every blob the manifest references.</summary>
    public IReadOnlyList<BlobFile> Blobs => [Config, .. Layers];

    /// <summary><c>host/repository:tag</c>, or by digest for an image pushed without a tag (an index's children).</summary>
    public string Reference(string registryHost) =>
        Tag is null ? DigestReference(registryHost) : $"{registryHost}/{Repository}:{Tag}";

    public string DigestReference(string registryHost) => $"{registryHost}/{Repository}@{ManifestDigest}";
}
