using System.Diagnostics.CodeAnalysis;
using NodeCache.Oci;

namespace NodeCache.Upstream;

/// <summary>What a request fetches: the <c>manifests</c> or <c>blobs</c> path segment.</summary>
public enum RegistryObject
{
    Manifest,
    Blob,
}

/// <summary>One pull-side request (GET or HEAD) for a manifest or blob of a repository, sent along a route; as the agent itself unless an <see cref="PullIdentity"/> is given.</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Object is the distribution API's word for what a request fetches.")]
public sealed record UpstreamRequest(
    UpstreamRoute Route,
    HttpMethod Method,
    RepositoryName Repository,
    RegistryObject Object,
    string Reference,
    string? Accept = null,
    long? RangeStart = null,
    PullIdentity? Identity = null);
