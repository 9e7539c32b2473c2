using NodeCache.Oci;

namespace NodeCache.Archive;

/// <summary>A cached image to export: a tag or a digest of a repository, under the registry name pulls use.</summary>
public sealed record ExportReference(string Registry, RepositoryName Repository, string Reference)
{
    public override string ToString() => $"{Registry}/{Repository}{(Digest.LooksLikeDigest(Reference) ? "@" : ":")}{Reference}";
}

/// <summary>The outcome of an export: how many images, blobs and bytes were written, or why none were.</summary>
public sealed record ExportResult(int Images, int Blobs, long Bytes, string? Error)
{
    public bool Succeeded => Error is null;

    internal static ExportResult Failed(string error) => new(0, 0, 0, error);
}
