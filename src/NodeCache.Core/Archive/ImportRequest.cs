using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>What to do with an archive's images: the registry their tags are registered under, and whether to pin them.</summary>
/// <param name="Registry">The registry name pulls will ask for (<c>harbor.example</c>); the names in the archive keep their repository and tag only.</param>
/// <param name="Repository">The repository for images the archive names by tag alone (an OCI layout written by <c>skopeo copy oci:DIR:TAG</c>).</param>
/// <param name="Pin">
/// Keep the imported images from eviction. The import itself does not pin: the caller pins every digest of
/// <see cref="ImportResult.Images"/> (<see cref="ImportedImage.Blobs"/>) with the cache's pins when this is set.
/// </param>
public sealed record ImportRequest(string Registry, RepositoryName? Repository = null, bool Pin = false);
