namespace NodeCache.Fill;

/// <summary>How receiving a blob from upstream ended; anything but <see cref="Verified"/> leaves nothing in the cache.</summary>
internal enum FillOutcome
{
    Verified,
    SizeMismatch,
    DigestMismatch,
    UpstreamFailed,
    DiskFailed,
}
