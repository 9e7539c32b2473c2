namespace NodeCache.Upstream;

/// <summary>
/// Where the requests for one registry (the <c>ns</c> containerd names) go, endpoints in the order they are tried; none for
/// a registry without a rule, whose images only the cache can serve (imported into an air-gapped node).
/// </summary>
public sealed record UpstreamRoute(string Registry, IReadOnlyList<UpstreamEndpoint> Endpoints)
{
    public bool HasUpstream => Endpoints.Count > 0;

    /// <summary>The route of a registry no rule names: the cache answers, and a miss is a 404 at once.</summary>
    public static UpstreamRoute CacheOnly(string registry) => new(registry, []);
}
