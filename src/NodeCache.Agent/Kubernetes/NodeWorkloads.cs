using k8s;
using k8s.Models;
using NodeCache.Oci;
using NodeCache.Prefetch;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// The Deployments, StatefulSets and DaemonSets that run pods on this node now. When one changes the images of its pod
/// template, its rolling update will replace those pods here: the new images are queued before the scheduler acts.
/// </summary>
internal sealed class NodeWorkloads(PrefetchQueue queue, Platform platform, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _workloadOfPod = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<ImageReference>> _templates = new(StringComparer.Ordinal);

    /// <summary>A pod on this node: remembers which workload owns it.</summary>
    public void PodSeen(string podKey, V1Pod pod)
    {
        if (Owner(pod) is { } workload)
        {
            lock (_gate)
            {
                _workloadOfPod[podKey] = workload;
            }
        }
    }

    public void PodGone(string podKey)
    {
        lock (_gate)
        {
            _workloadOfPod.Remove(podKey);
        }
    }

    /// <summary>The watch target for one kind of workload.</summary>
    public IWatchTarget<T> Watching<T>(string kind)
        where T : IKubernetesObject<V1ObjectMeta>
        => new Kind<T>(this, kind);

    private void Changed(string kind, V1ObjectMeta metadata, V1PodTemplateSpec? template, bool initial)
    {
        var key = Key(kind, metadata.NamespaceProperty, metadata.Name);
        var images = PodImages.Of(template?.Spec);
        List<ImageReference> added;
        lock (_gate)
        {
            var previous = _templates.GetValueOrDefault(key);
            _templates[key] = images;
            if (initial || previous is null || !_workloadOfPod.ContainsValue(key))
            {
                return;
            }
            added = [.. images.Where(i => !previous.Contains(i))];
        }
        if (added.Count == 0)
        {
            return;
        }
        logger.LogInformation("{Workload} changed its pod template and runs pods on this node: prefetching {Images}", key, string.Join(", ", added));
        var wanter = "workload:" + key;
        queue.Release(wanter);
        var priority = new PrefetchPriority(PrefetchUrgency.Anticipated, DateTimeOffset.UtcNow);
        foreach (var image in added)
        {
            queue.Want(wanter, image, platform, priority);
        }
    }

    private void Deleted(string kind, V1ObjectMeta metadata)
    {
        var key = Key(kind, metadata.NamespaceProperty, metadata.Name);
        lock (_gate)
        {
            _templates.Remove(key);
        }
        queue.Release("workload:" + key);
    }

    private void Resynced(string kind, IReadOnlyCollection<string> present)
    {
        List<string> gone;
        lock (_gate)
        {
            gone = [.. _templates.Keys.Where(k => k.StartsWith(kind + "/", StringComparison.Ordinal) && !present.Contains(k))];
            foreach (var key in gone)
            {
                _templates.Remove(key);
            }
        }
        foreach (var key in gone)
        {
            queue.Release("workload:" + key);
        }
    }

    // A Deployment owns its pods through a ReplicaSet named after it and the template's hash.
    private static string? Owner(V1Pod pod)
    {
        var owner = pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        if (owner is null)
        {
            return null;
        }
        var @namespace = pod.Metadata.NamespaceProperty;
        switch (owner.Kind)
        {
            case "StatefulSet" or "DaemonSet":
                return Key(owner.Kind, @namespace, owner.Name);
            case "ReplicaSet" when pod.Metadata.Labels?.TryGetValue("pod-template-hash", out var hash) == true && owner.Name.EndsWith("-" + hash, StringComparison.Ordinal):
                return Key("Deployment", @namespace, owner.Name[..^(hash.Length + 1)]);
            default:
                return null;
        }
    }

    private static string Key(string kind, string? @namespace, string name) => $"{kind}/{@namespace ?? "default"}/{name}";

    private sealed class Kind<T>(NodeWorkloads workloads, string kind) : IWatchTarget<T>
        where T : IKubernetesObject<V1ObjectMeta>
    {
        public void Resync(IEnumerable<T> items)
        {
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in items)
            {
                present.Add(Key(kind, item.Metadata.NamespaceProperty, item.Metadata.Name));
                workloads.Changed(kind, item.Metadata, Template(item), initial: true);
            }
            workloads.Resynced(kind, present);
        }

        public void Upsert(T item) => workloads.Changed(kind, item.Metadata, Template(item), initial: false);

        public void Delete(T item) => workloads.Deleted(kind, item.Metadata);

        private static V1PodTemplateSpec? Template(T item) => item switch
        {
            V1Deployment d => d.Spec?.Template,
            V1StatefulSet s => s.Spec?.Template,
            V1DaemonSet d => d.Spec?.Template,
            _ => null,
        };
    }
}
