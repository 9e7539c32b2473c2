using NodeCache.Pulls;

namespace NodeCache.Agent.Registry;

/// <summary>The pull a registry request belongs to, carried on the request so the endpoints can report what they served.</summary>
internal sealed class PullFeature(PullScope scope)
{
    public PullScope Scope { get; } = scope;

    /// <summary>Adds served manifest bytes to the request's pull, when it belongs to one.</summary>
    public static void ServedManifest(HttpContext context, long bytes) =>
        context.Features.Get<PullFeature>()?.Scope.ServedManifest(bytes);

    /// <summary>Adds served blob bytes to the request's pull, when it belongs to one.</summary>
    public static void Served(HttpContext context, bool fromCache, long bytes) =>
        context.Features.Get<PullFeature>()?.Scope.Served(fromCache, bytes);

    /// <summary>The client a pull is grouped by: its address (containerd opens several connections for one pull).</summary>
    public static string Peer(System.Net.IPAddress? address) => address?.ToString() ?? "local";
}
