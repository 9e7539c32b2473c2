using System.Diagnostics.CodeAnalysis;
using NodeCache.Oci;

namespace NodeCache.Upstream;

/// <summary>What a request fetches: a manifest or blob by reference, a repository's tag list, or the referrers of a digest.</summary>
public enum RegistryObject
{
    Manifest,
    Blob,

    /// <summary><c>/v2/&lt;name&gt;/tags/list</c>; the reference is empty.</summary>
    TagList,

    /// <summary><c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>; the reference is the subject's digest.</summary>
    Referrers,
}

/// <summary>
/// One pull-side request (GET or HEAD) for a manifest, blob or listing of a repository, sent along a route; as the agent
/// itself unless an <see cref="PullIdentity"/> is given. <paramref name="Query"/> is a listing's query string (already
/// encoded, without <c>?</c>).
/// </summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Object is the distribution API's word for what a request fetches.")]
public sealed record UpstreamRequest(
    UpstreamRoute Route,
    HttpMethod Method,
    RepositoryName Repository,
    RegistryObject Object,
    string Reference,
    string? Accept = null,
    long? RangeStart = null,
    PullIdentity? Identity = null,
    string? Query = null);
