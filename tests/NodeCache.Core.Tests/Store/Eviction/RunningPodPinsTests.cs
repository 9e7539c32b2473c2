using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Store.Eviction;

namespace NodeCache.Core.Tests.Store.Eviction;

public sealed class RunningPodPinsTests : IDisposable
{
    private readonly CacheFolder _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public void The_cached_image_of_a_running_pod_survives_eviction_until_the_pod_is_gone()
    {
        // The running pod's image is the oldest content of a cache filled past its high watermark.
        var (manifest, blobs) = _cache.PutImage("running", layers: 3);
        _cache.Time.Now = CacheFolder.T0.AddHours(1);
        var newer = Enumerable.Range(0, 6).Select(i => _cache.Put($"newer {i}")).ToArray();
        var running = new RunningPodPins(_cache.Images, _cache.PodPins);
        Assert.True(ImageReference.TryParse($"harbor.test/team/app@{manifest}", out var image));

        running.Set("default/web-0", [image]);
        _cache.Eviction(capacity: 5_000).RunPass();

        Assert.True(_cache.Store.Contains(manifest));
        Assert.All(blobs, blob => Assert.True(_cache.Store.Contains(blob)));
        Assert.Contains(newer, blob => !_cache.Store.Contains(blob));

        // What is left (the image alone) is over the mark of a smaller cache: without the pod, it goes.
        running.Remove("default/web-0");
        _cache.Eviction(capacity: 2_000).RunPass();

        Assert.False(_cache.Store.Contains(blobs[1]));
    }

    [Fact]
    public void An_image_two_running_pods_name_is_kept_while_either_runs()
    {
        var (manifest, _) = _cache.PutImage("shared");
        var running = new RunningPodPins(_cache.Images, _cache.PodPins);
        Assert.True(ImageReference.TryParse($"harbor.test/team/app@{manifest}", out var image));

        running.Set("default/a", [image]);
        running.Set("default/b", [image]);
        running.Remove("default/a");

        Assert.True(_cache.PodPins.Contains(manifest));
        running.Remove("default/b");
        Assert.False(_cache.PodPins.Contains(manifest));
    }
}
