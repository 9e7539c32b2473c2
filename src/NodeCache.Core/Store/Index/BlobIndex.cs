using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>The FASTER KV from digest to <see cref="BlobRecord"/>; safe to call from any thread.</summary>
public sealed class BlobIndex
{
    private readonly FasterTable<BlobValue, long, BlobFunctions> _table;

    internal BlobIndex(FasterTable<BlobValue, long, BlobFunctions> table) => _table = table;

    /// <summary>Live records.</summary>
    public long Count => _table.Count;

    public bool TryGet(Digest digest, out BlobRecord record)
    {
        if (_table.TryRead(digest, out var value))
        {
            record = value.ToRecord();
            return true;
        }
        record = default;
        return false;
    }

    /// <exception cref="ArgumentException">The media type is longer than 255 UTF-8 bytes, which no valid media type is.</exception>
    public void Upsert(Digest digest, BlobRecord record) => _table.Upsert(digest, BlobValue.From(record));

    /// <summary>Moves the last access of a record forward, if there is one: an update in place while the record is in memory.</summary>
    public void Touch(Digest digest, DateTimeOffset accessedAt) => _table.Update(digest, accessedAt.UtcTicks);

    /// <summary>False when there was no record.</summary>
    public bool Delete(Digest digest) => _table.Delete(digest);

    /// <summary>A scan of the live records. Records written while it runs may be left out.</summary>
    public IEnumerable<KeyValuePair<Digest, BlobRecord>> Entries()
    {
        foreach (var (digest, value) in _table.Entries())
        {
            yield return new(digest, value.ToRecord());
        }
    }
}
