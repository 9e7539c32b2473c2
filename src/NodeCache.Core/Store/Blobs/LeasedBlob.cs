namespace NodeCache.Store.Blobs;

/// <summary>A cached blob held for one response: eviction and quarantine pass it by until it is disposed.</summary>
public readonly struct LeasedBlob : IDisposable
{
    private readonly BlobLease _lease;

    internal LeasedBlob(CachedBlob blob, BlobLease lease) => (Blob, _lease) = (blob, lease);

    public CachedBlob Blob { get; }

    public void Dispose() => _lease.Dispose();
}
