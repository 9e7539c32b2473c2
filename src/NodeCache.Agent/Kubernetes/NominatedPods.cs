using k8s.Models;
using NodeCache.Oci;
using NodeCache.Prefetch;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// Pods not yet bound whose <c>status.nominatedNodeName</c> is this node: the scheduler is preempting room for them here,
/// so their images are queued (after the bound pods) before the binding arrives.
/// </summary>
internal sealed class NominatedPods(PrefetchQueue queue, Platform platform, string nodeName) : IWatchTarget<V1Pod>
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _nominated = new(StringComparer.Ordinal);

    public void Resync(IEnumerable<V1Pod> items)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in items)
        {
            present.Add(PodImages.Key(pod));
            Upsert(pod);
        }
        List<string> gone;
        lock (_gate)
        {
            gone = [.. _nominated.Where(k => !present.Contains(k))];
        }
        gone.ForEach(Forget);
    }

    public void Upsert(V1Pod pod)
    {
        var key = PodImages.Key(pod);
        if (pod.Status?.NominatedNodeName != nodeName || !string.IsNullOrEmpty(pod.Spec?.NodeName) || PodImages.HasEnded(pod))
        {
            Forget(key);
            return;
        }
        lock (_gate)
        {
            _nominated.Add(key);
        }
        var priority = new PrefetchPriority(PrefetchUrgency.Nominated, PodImages.Created(pod.Metadata));
        foreach (var image in PodImages.Of(pod.Spec))
        {
            queue.Want(Wanter(key), image, platform, priority);
        }
    }

    public void Delete(V1Pod pod) => Forget(PodImages.Key(pod));

    // Not the pod's own key: when the pod is bound here, the node's pod watch wants the same images under that key,
    // and releasing the nomination must not cancel them.
    private static string Wanter(string key) => "nominated:" + key;

    private void Forget(string key)
    {
        bool was;
        lock (_gate)
        {
            was = _nominated.Remove(key);
        }
        if (was)
        {
            queue.Release(Wanter(key));
        }
    }
}
