using NodeCache.Mirror;
using NodeCache.Oci;

namespace NodeCache.Core.Tests.Mirror;

public sealed class ManifestMemoryTests
{
    [Fact]
    public void A_remembered_manifest_is_found_by_its_digest()
    {
        var memory = new ManifestMemory();
        var manifest = Manifest(1, 100);

        memory.Remember(manifest);

        Assert.True(memory.TryGet(manifest.Digest, out var found));
        Assert.Same(manifest, found);
        Assert.False(memory.TryGet(Digest.Compute([9]), out _));
    }

    [Fact]
    public void Memory_stays_bounded_and_keeps_the_newest_manifest()
    {
        var memory = new ManifestMemory();
        var first = Manifest(1, 6 * 1024 * 1024);
        memory.Remember(first);
        memory.Remember(Manifest(2, 6 * 1024 * 1024));

        var newest = Manifest(3, 6 * 1024 * 1024);
        memory.Remember(newest);

        Assert.False(memory.TryGet(first.Digest, out _));
        Assert.True(memory.TryGet(newest.Digest, out _));
    }

    private static ManifestContent Manifest(byte seed, int size)
    {
        var bytes = new byte[size];
        bytes[0] = seed;
        return new ManifestContent(Digest.Compute(bytes), MediaTypes.OciManifest, bytes);
    }
}
