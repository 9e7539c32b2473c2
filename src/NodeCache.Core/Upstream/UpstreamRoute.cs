namespace NodeCache.Upstream;

/// <summary>Where the requests for one registry (the <c>ns</c> containerd names) go, endpoints in the order they are tried.</summary>
public sealed record UpstreamRoute(string Registry, IReadOnlyList<UpstreamEndpoint> Endpoints);
