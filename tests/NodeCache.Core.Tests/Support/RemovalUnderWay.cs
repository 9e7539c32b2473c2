using NodeCache.Oci;
using NodeCache.Store.Blobs;

namespace NodeCache.Core.Tests.Support;

/// <summary>
/// An eviction of one blob held open mid-way, as <c>BlobStore.Remove</c> runs it in one go: marked as being removed (its
/// record found), then the record dropped, the file deleted and the mark lifted. A test puts what races it in between.
/// </summary>
internal sealed class RemovalUnderWay
{
    private readonly BlobStore _store;
    private readonly CacheLayout _layout;
    private readonly Digest _digest;
    private readonly long _size;

    private RemovalUnderWay(BlobStore store, CacheLayout layout, Digest digest, long size) =>
        (_store, _layout, _digest, _size) = (store, layout, digest, size);

    /// <summary>Marks the cached blob as being removed; fails the test when a lease holds it.</summary>
    public static RemovalUnderWay Begin(BlobStore store, CacheLayout layout, Digest digest, long size)
    {
        Assert.True(store.Leases.TryBeginRemoval(digest));
        return new RemovalUnderWay(store, layout, digest, size);
    }

    /// <summary>Drops the record, deletes the file and lifts the mark.</summary>
    public void Finish()
    {
        _store.Forget(_digest, _size);
        File.Delete(_layout.BlobPath(_digest));
        _store.Leases.EndRemoval(_digest);
    }
}
