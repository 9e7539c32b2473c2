using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>
/// What a listing asks for: a repository's tag list or the referrers of a digest, with the client's query (<c>n</c>,
/// <c>last</c>, <c>artifactType</c>, or whatever an upstream's <c>Link</c> put there) and Accept.
/// </summary>
/// <param name="Subject">The referrers' subject digest; empty for a tag list.</param>
/// <param name="Query">The client's query parameters other than <c>ns</c>, in the order sent, passed on upstream.</param>
public sealed record ListingRequest(RegistryObject Kind, string Subject, IReadOnlyList<KeyValuePair<string, string>> Query, string? Accept)
{
    /// <summary>The query as sent upstream: each name and value escaped again, so nothing the client sent splits the URL.</summary>
    public string EncodedQuery { get; } = string.Join('&', Query.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));

    /// <summary>The value of the first parameter of that name, or null.</summary>
    public string? Parameter(string name) => Query.FirstOrDefault(p => p.Key == name).Value;
}

/// <summary>A listing as the mirror serves it: the body, its type, and the headers that go with it.</summary>
/// <param name="Link">The next page, as a path under the mirror's <c>/v2/</c> (without <c>ns</c>), or null on the last page.</param>
/// <param name="FiltersApplied">The upstream's <c>OCI-Filters-Applied</c>: which filters the body already reflects.</param>
public sealed record Listing(ReadOnlyMemory<byte> Body, string ContentType, string? Link, string? FiltersApplied);

/// <summary>Where a listing came from: kept from a recent answer, the upstream just now, or the last known one while the upstream cannot answer.</summary>
public enum ListingSource
{
    Kept,
    Upstream,
    Stale,
}

/// <summary>The listing, or why there is none.</summary>
public readonly record struct ListingAnswer(Listing? Listing, ListingSource Source, MirrorError? Error)
{
    public static ListingAnswer Found(Listing listing, ListingSource source) => new(listing, source, null);

    public static ListingAnswer Failed(MirrorError error) => new(null, ListingSource.Upstream, error);
}
