using NodeCache.Access;
using NodeCache.Store.Eviction;
using k8s;
using k8s.Models;
using NodeCache.Agent.Configuration;
using NodeCache.Oci;
using NodeCache.Prefetch;

namespace NodeCache.Agent.Kubernetes;

/// <summary>Reads the node's platform, then watches the pods bound to it and runs the prefetch queue for them.</summary>
internal sealed class PrefetchWatcher(
    IKubernetes client, AgentOptions options, PrefetchQueue queue, PrivateImagePolicy privateImages, RunningPodPins running, ILoggerFactory loggers)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger<PrefetchWatcher>();
        var nodeName = options.NodeName!;
        Platform platform;
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
        var workloads = new NodeWorkloads(queue, platform, loggers.CreateLogger<NodeWorkloads>());
        var pods = new NodePods(queue, privateImages, workloads, secrets, running, platform, loggers.CreateLogger<NodePods>(), stoppingToken);
        var bound = $"spec.nodeName={nodeName}";
        var podWatch = new ResourceWatch<V1Pod, V1PodList>(
            $"pods on {nodeName}",
            cancel => client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: bound, cancellationToken: cancel),
            (version, onError, cancel) => client.CoreV1.WatchListPodForAllNamespacesAsync(
                allowWatchBookmarks: true, fieldSelector: bound, resourceVersion: version, onError: onError, cancellationToken: cancel),
            pods,
            loggers.CreateLogger<ResourceWatch<V1Pod, V1PodList>>());
        // Unbound pods, for the nominations among them: the API has no field selector on status.nominatedNodeName.
        var nominatedWatch = new ResourceWatch<V1Pod, V1PodList>(
            "unbound pods",
            cancel => client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=", cancellationToken: cancel),
            (version, onError, cancel) => client.CoreV1.WatchListPodForAllNamespacesAsync(
                allowWatchBookmarks: true, fieldSelector: "spec.nodeName=", resourceVersion: version, onError: onError, cancellationToken: cancel),
            new NominatedPods(queue, platform, nodeName),
            loggers.CreateLogger<ResourceWatch<V1Pod, V1PodList>>());
        var deployments = new ResourceWatch<V1Deployment, V1DeploymentList>(
            "deployments",
            cancel => client.AppsV1.ListDeploymentForAllNamespacesAsync(cancellationToken: cancel),
            (version, onError, cancel) => client.AppsV1.WatchListDeploymentForAllNamespacesAsync(
                allowWatchBookmarks: true, resourceVersion: version, onError: onError, cancellationToken: cancel),
            workloads.Watching<V1Deployment>("Deployment"),
            loggers.CreateLogger<ResourceWatch<V1Deployment, V1DeploymentList>>());
        var statefulSets = new ResourceWatch<V1StatefulSet, V1StatefulSetList>(
            "statefulsets",
            cancel => client.AppsV1.ListStatefulSetForAllNamespacesAsync(cancellationToken: cancel),
            (version, onError, cancel) => client.AppsV1.WatchListStatefulSetForAllNamespacesAsync(
                allowWatchBookmarks: true, resourceVersion: version, onError: onError, cancellationToken: cancel),
            workloads.Watching<V1StatefulSet>("StatefulSet"),
            loggers.CreateLogger<ResourceWatch<V1StatefulSet, V1StatefulSetList>>());
        var daemonSets = new ResourceWatch<V1DaemonSet, V1DaemonSetList>(
            "daemonsets",
            cancel => client.AppsV1.ListDaemonSetForAllNamespacesAsync(cancellationToken: cancel),
            (version, onError, cancel) => client.AppsV1.WatchListDaemonSetForAllNamespacesAsync(
                allowWatchBookmarks: true, resourceVersion: version, onError: onError, cancellationToken: cancel),
            workloads.Watching<V1DaemonSet>("DaemonSet"),
            loggers.CreateLogger<ResourceWatch<V1DaemonSet, V1DaemonSetList>>());
        await Task.WhenAll(
            queue.RunAsync(stoppingToken), podWatch.RunAsync(stoppingToken), nominatedWatch.RunAsync(stoppingToken),
            deployments.RunAsync(stoppingToken), statefulSets.RunAsync(stoppingToken), daemonSets.RunAsync(stoppingToken)).ConfigureAwait(false);
    }
}
