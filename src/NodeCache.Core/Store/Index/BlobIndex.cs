using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>The FASTER KVs from digest to <see cref="BlobRecord"/>, one per algorithm; safe to call from any thread.</summary>
public sealed class BlobIndex
{
    // Indexed by DigestAlgorithm: a lookup goes to its algorithm's table with no search.
    private readonly IDigestTable<BlobValue, long>[] _tables;

    internal BlobIndex(IDigestTable<BlobValue, long>[] tables) => _tables = tables;

    /// <summary>Live records.</summary>
    public long Count => _tables.Sum(table => table.Count);

    public bool TryGet(Digest digest, out BlobRecord record)
    {
        if (TableOf(digest).TryRead(digest, out var value))
        {
            record = value.ToRecord();
            return true;
        }
        record = default;
        return false;
    }

    /// <exception cref="ArgumentException">The media type is longer than 255 UTF-8 bytes, which no valid media type is.</exception>
    public void Upsert(Digest digest, BlobRecord record) => TableOf(digest).Upsert(digest, BlobValue.From(record));

    /// <summary>Moves the last access of a record forward, if there is one: an update in place while the record is in memory.</summary>
    public void Touch(Digest digest, DateTimeOffset accessedAt) => TableOf(digest).Update(digest, accessedAt.UtcTicks);

    /// <summary>False when there was no record.</summary>
    public bool Delete(Digest digest) => TableOf(digest).Delete(digest);

    /// <summary>A scan of the live records, algorithm by algorithm. Records written while it runs may be left out.</summary>
    public IEnumerable<KeyValuePair<Digest, BlobRecord>> Entries()
    {
        foreach (var table in _tables)
        {
            foreach (var (digest, value) in table.Entries())
            {
                yield return new(digest, value.ToRecord());
            }
        }
    }

    private IDigestTable<BlobValue, long> TableOf(in Digest digest) => _tables[(int)digest.Algorithm];
}
