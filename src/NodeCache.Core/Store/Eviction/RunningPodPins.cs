using NodeCache.Oci;
using NodeCache.Store.Images;

namespace NodeCache.Store.Eviction;

/// <summary>
/// Keeps the cached images of pods already running on this node out of eviction: a container that restarts, or a pod
/// that is recreated here, needs them again. Only what is cached is kept (read through cached manifests, never the
/// upstream), so an agent that starts on a busy node fetches nothing for pods that have pulled already.
/// </summary>
public sealed class RunningPodPins(ImageBlobs images, PodPins podPins)
{
    private const string Holder = "running-pods";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<Digest>> _byPod = new(StringComparer.Ordinal);

    /// <summary>Records the images of <paramref name="pod"/> (any key that names it) and keeps their cached blobs.</summary>
    public void Set(string pod, IEnumerable<ImageReference> podImages)
    {
        ArgumentNullException.ThrowIfNull(podImages);
        var digests = new HashSet<Digest>();
        foreach (var image in podImages)
        {
            digests.UnionWith(images.Of(PinnedImage.From(image)));
        }
        lock (_gate)
        {
            _byPod[pod] = digests;
            Publish();
        }
    }

    /// <summary>Lets the images of a pod that is gone be evicted again, unless another running pod names them.</summary>
    public void Remove(string pod)
    {
        lock (_gate)
        {
            if (_byPod.Remove(pod))
            {
                Publish();
            }
        }
    }

    // Under the gate, so the last set published is the last one computed.
    private void Publish() => podPins.Replace(Holder, _byPod.Values.SelectMany(set => set));
}
