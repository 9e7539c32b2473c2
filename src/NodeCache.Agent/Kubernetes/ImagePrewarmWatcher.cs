using NodeCache.Kubernetes;
using NodeCache.Store.Eviction;
using k8s;
using NodeCache.Agent.Configuration;
using NodeCache.Prewarm;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// Reads this node's labels and platform, then lists and watches the cluster's ImagePrewarms and fulfils those that
/// select this node. An agent that starts after a prewarm was created finds it in the first list.
/// </summary>
internal sealed class ImagePrewarmWatcher(IKubernetes client, AgentOptions options, ImagePrewarm prewarm, Pins pins, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger<ImagePrewarmWatcher>();
        var nodeName = options.NodeName!;
        k8s.Models.V1Node node;
        try
        {
            node = await NodePlatformReader.ReadNodeAsync(client, nodeName, logger, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var platform = NodePlatformReader.Of(node);
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        logger.LogInformation("Fulfilling the ImagePrewarms that select node {Node} ({Platform})", nodeName, platform);
        var writer = new PrewarmStatusWriter(client, nodeName, TimeProvider.System, loggers.CreateLogger<PrewarmStatusWriter>());
        using var prewarms = new NodePrewarms(prewarm, new PrewarmPins(pins), writer, nodeName, labels, platform, TimeProvider.System, loggers.CreateLogger<NodePrewarms>(), stoppingToken);
        var watch = new ResourceWatch<ImagePrewarmResource, ImagePrewarmList>(
            "imageprewarms",
            cancel => client.CustomObjects.ListClusterCustomObjectAsync<ImagePrewarmList>(
                ImagePrewarmResource.Group, ImagePrewarmResource.Version, ImagePrewarmResource.Plural, cancellationToken: cancel),
            (version, onError, cancel) => ImagePrewarmResource.Typed(client.CustomObjects.WatchListClusterCustomObjectAsync(
                ImagePrewarmResource.Group, ImagePrewarmResource.Version, ImagePrewarmResource.Plural,
                allowWatchBookmarks: true, resourceVersion: version, onError: onError, cancellationToken: cancel)),
            prewarms,
            loggers.CreateLogger<ResourceWatch<ImagePrewarmResource, ImagePrewarmList>>());
        await watch.RunAsync(stoppingToken).ConfigureAwait(false);
    }
}
