using NodeCache.Oci;

namespace NodeCache.Fill;

/// <summary>A reader's fill was abandoned part way: the response must be aborted, never completed.</summary>
public sealed class FillFailedException(Digest digest, string? reason)
    : IOException($"fill of {digest} failed: {reason ?? "unknown reason"}")
{
    public Digest Digest { get; } = digest;
}
