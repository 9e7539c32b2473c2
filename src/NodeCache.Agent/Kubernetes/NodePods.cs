using NodeCache.Access;
using NodeCache.Store.Eviction;
using k8s.Models;
using NodeCache.Oci;
using NodeCache.Prefetch;
using NodeCache.Upstream;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// The pods bound to this node, as the watch reports them, turned into what the prefetch queue wants (the images of
/// every pod not yet running, oldest first, with the pod's pull-secret credentials) and what the private-image policy
/// checks (the images every pod names). A pod that is deleted or ends releases its images.
/// </summary>
internal sealed class NodePods(
    PrefetchQueue queue, PrivateImagePolicy privateImages, NodeWorkloads workloads, PodPullSecrets? pullSecrets, RunningPodPins running, Platform platform,
    ILogger logger, CancellationToken stopping)
    : IWatchTarget<V1Pod>
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    // Per pod, its credentials once read; a pod whose secrets are being read has none yet.
    private readonly Dictionary<string, DockerConfigCredentials?> _credentials = new(StringComparer.Ordinal);

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
        workloads.PodSeen(key, pod);
        DockerConfigCredentials? credentials = null;
        var reading = false;
        lock (_gate)
        {
            _known.Add(key);
            if (pullSecrets is not null && !_credentials.TryGetValue(key, out credentials))
            {
                _credentials[key] = null;
                reading = true;
            }
            else if (pullSecrets is not null && credentials is null)
            {
                return; // its secrets are being read: that read applies the pod
            }
        }
        // A running pod has pulled already (a pod that was pending when seen first is queued already), but its images
        // still count for the private-image policy.
        var wantsPull = PodImages.AwaitsPull(pod);
        if (!reading)
        {
            Apply(key, pod, credentials, wantsPull);
            return;
        }
        _ = Task.Run(async () =>
        {
            DockerConfigCredentials read;
            try
            {
                read = await pullSecrets!.ReadAsync(pod, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Cannot read the pull secrets of pod {Namespace}/{Name}: {Reason}", pod.Metadata.NamespaceProperty, pod.Metadata.Name, ex.Message);
                read = new DockerConfigCredentials();
            }
            lock (_gate)
            {
                if (!_known.Contains(key))
                {
                    return; // deleted meanwhile
                }
                _credentials[key] = read;
            }
            Apply(key, pod, read, wantsPull);
        }, CancellationToken.None);
    }

    public void Delete(V1Pod pod) => Forget(PodImages.Key(pod));

    private void Apply(string key, V1Pod pod, DockerConfigCredentials? credentials, bool wantsPull)
    {
        var images = PodImages.Of(pod.Spec)
            .Select(image => new PodImage(image, credentials?.Match(image.Registry, image.Repository.Value) ?? []))
            .ToList();
        privateImages.SetPod(key, images);
        if (!wantsPull)
        {
            running.Set(key, images.Select(image => image.Image));
            return;
        }
        var priority = new PrefetchPriority(PrefetchUrgency.Bound, PodImages.Created(pod.Metadata));
        foreach (var image in images)
        {
            queue.Want(key, image.Image, platform, priority, image.Credentials);
        }
    }

    private void Forget(string key)
    {
        lock (_gate)
        {
            _known.Remove(key);
            _credentials.Remove(key);
        }
        queue.Release(key);
        running.Remove(key);
        privateImages.RemovePod(key);
        workloads.PodGone(key);
    }
}
