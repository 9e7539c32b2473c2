namespace NodeCache.Telemetry;

/// <summary>Why a fill was abandoned, as <c>nodecache_fill_failures_total</c> labels it.</summary>
public enum FillFailureReason
{
    DigestMismatch,
    SizeMismatch,
    Upstream,
    Disk,
}
