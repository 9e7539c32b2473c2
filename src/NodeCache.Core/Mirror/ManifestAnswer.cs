using NodeCache.Oci;

namespace NodeCache.Mirror;

/// <summary>A manifest's bytes with the digest and media type they are served under.</summary>
public sealed record ManifestContent(Digest Digest, string MediaType, ReadOnlyMemory<byte> Bytes);

/// <summary>How a manifest was found: in the cache, from upstream, or (the upstream unable to answer) from the cache or another agent.</summary>
public enum ManifestSource
{
    Cache,
    Upstream,
    Stale,

    /// <summary>Another agent's copy, while the upstream could not answer.</summary>
    Peer,
}

/// <summary>The manifest, or why there is none.</summary>
public readonly record struct ManifestAnswer(ManifestContent? Manifest, ManifestSource Source, MirrorError? Error)
{
    public static ManifestAnswer Found(ManifestContent manifest, ManifestSource source) => new(manifest, source, null);

    public static ManifestAnswer Failed(MirrorError error) => new(null, ManifestSource.Upstream, error);
}
