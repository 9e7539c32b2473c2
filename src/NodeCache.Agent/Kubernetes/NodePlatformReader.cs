using k8s;
using k8s.Models;
using NodeCache.Oci;

namespace NodeCache.Agent.Kubernetes;

/// <summary>Reads the node's platform from its Node object: the well-known os and arch labels, else its nodeInfo.</summary>
internal static class NodePlatformReader
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>The node's platform, asking until the API answers (the agent may start before the API is reachable).</summary>
    public static async Task<Platform> ReadAsync(IKubernetes client, string nodeName, ILogger logger, CancellationToken stopping) =>
        Of(await ReadNodeAsync(client, nodeName, logger, stopping).ConfigureAwait(false));

    /// <summary>The Node object, asking until the API answers.</summary>
    public static async Task<V1Node> ReadNodeAsync(IKubernetes client, string nodeName, ILogger logger, CancellationToken stopping)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                return await client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or HttpRequestException or IOException)
            {
                logger.LogWarning("Cannot read node {Node}: {Reason}; again in {Delay} ms", nodeName, ex.Message, (int)backoff.TotalMilliseconds);
                await Task.Delay(backoff, stopping).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    public static Platform Of(V1Node node)
    {
        IDictionary<string, string> labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        var os = (labels.TryGetValue("kubernetes.io/os", out var o) ? o : null) ?? node.Status?.NodeInfo?.OperatingSystem ?? "linux";
        var architecture = (labels.TryGetValue("kubernetes.io/arch", out var a) ? a : null) ?? node.Status?.NodeInfo?.Architecture ?? "amd64";
        // Kubernetes publishes no variant; a node that needs one (32-bit arm) can carry it as a label.
        var variant = labels.TryGetValue(VariantLabel, out var v) ? v : null;
        return new Platform(os, architecture, variant);
    }

    /// <summary>The label that names a node's CPU variant (<c>v7</c>), which Kubernetes itself does not publish.</summary>
    public const string VariantLabel = "nodecache.io/arch-variant";
}
