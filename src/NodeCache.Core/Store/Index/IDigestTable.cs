using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A table's records by digest; every digest given is of the table's algorithm.</summary>
/// <typeparam name="TValue">The record.</typeparam>
/// <typeparam name="TInput">What <see cref="Update"/> applies to a record.</typeparam>
internal interface IDigestTable<TValue, TInput> : IIndexTable
    where TValue : unmanaged
{
    bool TryRead(Digest digest, out TValue value);

    void Upsert(Digest digest, TValue value);

    /// <summary>Applies <paramref name="input"/> to the record; false when there is none.</summary>
    bool Update(Digest digest, TInput input);

    /// <summary>False when there was no record to delete.</summary>
    bool Delete(Digest digest);

    /// <summary>The latest value of every live key; a key written while the scan runs may be left out.</summary>
    IEnumerable<KeyValuePair<Digest, TValue>> Entries();
}
