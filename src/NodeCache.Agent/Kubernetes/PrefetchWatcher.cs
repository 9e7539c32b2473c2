using k8s;
using k8s.Models;
using NodeCache.Agent.Configuration;
using NodeCache.Prefetch;

namespace NodeCache.Agent.Kubernetes;

/// <summary>Reads the node's platform, then watches the pods bound to it and runs the prefetch queue for them.</summary>
internal sealed class PrefetchWatcher(
    IKubernetes client, AgentOptions options, PrefetchQueue queue, PrivateImagePolicy privateImages, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger<PrefetchWatcher>();
        var nodeName = options.NodeName!;
        NodePlatform platform;
        try
        {
            platform = await NodePlatformReader.ReadAsync(client, nodeName, logger, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        logger.LogInformation("Prefetching for the pods of node {Node} ({Platform}), {Concurrency} at a time, bandwidth {Bandwidth}; pull secrets {PullSecrets}; private images {PrivateImages}",
            nodeName, platform, options.PrefetchConcurrency, options.PrefetchBandwidth is { } rate ? $"{rate} bytes/s" : "unlimited",
            options.PullSecrets ? "read" : "not read", privateImages.Mode);
        var secrets = options.PullSecrets ? new PodPullSecrets(client, loggers.CreateLogger<PodPullSecrets>()) : null;
        var pods = new NodePods(queue, privateImages, secrets, platform, loggers.CreateLogger<NodePods>(), stoppingToken);
        var selector = $"spec.nodeName={nodeName}";
        var watch = new ResourceWatch<V1Pod, V1PodList>(
            $"pods on {nodeName}",
            cancel => client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: selector, cancellationToken: cancel),
            (version, onError, cancel) => client.CoreV1.WatchListPodForAllNamespacesAsync(
                allowWatchBookmarks: true, fieldSelector: selector, resourceVersion: version, onError: onError, cancellationToken: cancel),
            pods,
            loggers.CreateLogger<ResourceWatch<V1Pod, V1PodList>>());
        await Task.WhenAll(queue.RunAsync(stoppingToken), watch.RunAsync(stoppingToken)).ConfigureAwait(false);
    }
}
