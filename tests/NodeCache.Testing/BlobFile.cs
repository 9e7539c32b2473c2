using System.Text.Json.Nodes;
using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>A blob (layer, config, manifest or index) of a built image, on disk so tests can compare served bytes with it.</summary>
public sealed record BlobFile(string MediaType, Digest Digest, long Size, string Path)
{
    public byte[] ReadAllBytes() => File.ReadAllBytes(Path);

    public FileStream OpenRead() => new(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);

    /// <summary>The OCI descriptor that points at this blob from a manifest or an index.</summary>
    public JsonObject ToDescriptor() => new()
    {
        ["mediaType"] = MediaType,
        ["digest"] = Digest.ToString(),
        ["size"] = Size,
    };
}
