using FASTER.core;

namespace NodeCache.Store.Index;

/// <summary>How FASTER reads, writes and touches blob records. The RMW input is an access time in UTC ticks; a touch never creates a record.</summary>
internal sealed class BlobFunctions<TKey> : FunctionsBase<TKey, BlobValue, long, BlobValue, Empty>
    where TKey : unmanaged, IDigestKey<TKey>
{
    public override bool SingleReader(ref TKey key, ref long input, ref BlobValue value, ref BlobValue dst, ref ReadInfo readInfo)
    {
        dst = value;
        return true;
    }

    public override bool ConcurrentReader(ref TKey key, ref long input, ref BlobValue value, ref BlobValue dst, ref ReadInfo readInfo)
    {
        dst = value;
        return true;
    }

    public override bool SingleWriter(ref TKey key, ref long input, ref BlobValue src, ref BlobValue dst, ref BlobValue output, ref UpsertInfo upsertInfo, WriteReason reason)
    {
        dst = src;
        return true;
    }

    public override bool ConcurrentWriter(ref TKey key, ref long input, ref BlobValue src, ref BlobValue dst, ref BlobValue output, ref UpsertInfo upsertInfo)
    {
        dst = src;
        return true;
    }

    public override bool NeedInitialUpdate(ref TKey key, ref long input, ref BlobValue output, ref RMWInfo rmwInfo) => false;

    public override bool InPlaceUpdater(ref TKey key, ref long input, ref BlobValue value, ref BlobValue output, ref RMWInfo rmwInfo)
    {
        value.Touch(input);
        return true;
    }

    public override bool CopyUpdater(ref TKey key, ref long input, ref BlobValue oldValue, ref BlobValue newValue, ref BlobValue output, ref RMWInfo rmwInfo)
    {
        newValue = oldValue;
        newValue.Touch(input);
        return true;
    }
}
