using System.Collections.Concurrent;

namespace NodeCache.Mirror;

/// <summary>
/// The last answer for each listing asked for lately. Bounded by total size; when full it starts over, as
/// <see cref="ManifestMemory"/> does: a listing forgotten costs one upstream request, or a 503 in an outage.
/// </summary>
internal sealed class ListingMemory
{
    // A tag list of a few hundred tags is a few KiB; 8 MiB keeps thousands of listings.
    private const long Capacity = 8 * 1024 * 1024;

    private readonly ConcurrentDictionary<string, (Listing Listing, DateTimeOffset FetchedAt)> _listings = new(StringComparer.Ordinal);
    private long _bytes;

    public bool TryGet(string key, out (Listing Listing, DateTimeOffset FetchedAt) kept) => _listings.TryGetValue(key, out kept);

    public void Remember(string key, Listing listing, DateTimeOffset fetchedAt)
    {
        var size = listing.Body.Length + key.Length;
        if (Interlocked.Add(ref _bytes, size) > Capacity)
        {
            _listings.Clear();
            Interlocked.Exchange(ref _bytes, size);
        }
        _listings[key] = (listing, fetchedAt);
    }

    public void Forget(string key) => _listings.TryRemove(key, out _);
}
