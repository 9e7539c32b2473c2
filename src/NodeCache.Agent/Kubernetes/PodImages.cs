using k8s.Models;
using NodeCache.Oci;

namespace NodeCache.Agent.Kubernetes;

/// <summary>What prefetch reads from a pod: its identity, its images, and whether the kubelet still has to pull them.</summary>
internal static class PodImages
{
    /// <summary>The pod's UID: a pod deleted and created again under its name is another pod.</summary>
    public static string Key(V1Pod pod) => pod.Metadata.Uid ?? $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";

    /// <summary>Images of init, regular and ephemeral containers, in the order the kubelet pulls them; unparseable names skipped.</summary>
    public static IReadOnlyList<ImageReference> Of(V1PodSpec? spec)
    {
        if (spec is null)
        {
            return [];
        }
        var names = (spec.InitContainers ?? []).Select(c => c.Image)
            .Concat((spec.Containers ?? []).Select(c => c.Image))
            .Concat((spec.EphemeralContainers ?? []).Select(c => c.Image));
        var images = new List<ImageReference>();
        foreach (var name in names)
        {
            if (name is not null && ImageReference.TryParse(name, out var image) && !images.Contains(image))
            {
                images.Add(image);
            }
        }
        return images;
    }

    /// <summary>Pending: the kubelet has not started every container, so a pull may still come.</summary>
    public static bool AwaitsPull(V1Pod pod) => pod.Status?.Phase is null or "Pending";

    /// <summary>Ended pods need nothing any more.</summary>
    public static bool HasEnded(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed" || pod.Metadata.DeletionTimestamp is not null;

    public static DateTimeOffset Created(V1ObjectMeta metadata) =>
        metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : DateTimeOffset.UtcNow;
}
