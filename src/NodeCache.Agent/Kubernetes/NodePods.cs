using k8s.Models;
using NodeCache.Prefetch;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// The pods bound to this node, as the watch reports them, turned into what the prefetch queue wants: the images of
/// every pod not yet running, most urgent (oldest) first; a pod that is deleted or ends releases its images.
/// </summary>
internal sealed class NodePods(PrefetchQueue queue, NodePlatform platform, ILogger logger) : IWatchTarget<V1Pod>
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public void Resync(IEnumerable<V1Pod> items)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in items)
        {
            present.Add(PodImages.Key(pod));
            Upsert(pod);
        }
        List<string> vanished;
        lock (_gate)
        {
            vanished = [.. _known.Where(key => !present.Contains(key))];
        }
        foreach (var key in vanished)
        {
            Forget(key);
        }
    }

    public void Upsert(V1Pod pod)
    {
        var key = PodImages.Key(pod);
        if (PodImages.HasEnded(pod))
        {
            Forget(key);
            return;
        }
        bool isNew;
        lock (_gate)
        {
            isNew = _known.Add(key);
        }
        // A running pod seen for the first time (the agent started after it) has pulled already.
        if (!PodImages.AwaitsPull(pod) && isNew)
        {
            return;
        }
        var priority = new PrefetchPriority(PrefetchUrgency.Bound, PodImages.Created(pod.Metadata));
        foreach (var image in PodImages.Of(pod.Spec))
        {
            queue.Want(key, image, platform, priority);
        }
        if (isNew)
        {
            logger.LogDebug("Pod {Namespace}/{Name} on this node: {Phase}", pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Status?.Phase);
        }
    }

    public void Delete(V1Pod pod) => Forget(PodImages.Key(pod));

    private void Forget(string key)
    {
        lock (_gate)
        {
            _known.Remove(key);
        }
        queue.Release(key);
    }
}
