using System.Collections.Concurrent;
using NodeCache.Oci;

namespace NodeCache.Mirror;

/// <summary>
/// The bytes of recently served manifests, so a hit costs an index lookup instead of opening and reading a file.
/// Bounded by total size; when full it starts over, which keeps it simple and is cheap for manifests that are
/// refetched from disk on the next request.
/// </summary>
internal sealed class ManifestMemory
{
    // Kubernetes nodes run a few hundred images at most; 16 MiB holds thousands of typical 2–10 KiB manifests.
    private const long Capacity = 16 * 1024 * 1024;

    private readonly ConcurrentDictionary<Digest, ManifestContent> _manifests = new();
    private long _bytes;

    public bool TryGet(Digest digest, out ManifestContent manifest) => _manifests.TryGetValue(digest, out manifest!);

    public void Remember(ManifestContent manifest)
    {
        if (Interlocked.Add(ref _bytes, manifest.Bytes.Length) > Capacity)
        {
            _manifests.Clear();
            Interlocked.Exchange(ref _bytes, manifest.Bytes.Length);
        }
        _manifests[manifest.Digest] = manifest;
    }
}
