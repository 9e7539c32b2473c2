using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using NodeCache.Store.Index;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Support;

/// <summary>A real cache on disk (layout, FASTER index, store, pins) in a temp folder, with a clock the test moves.</summary>
internal sealed class CacheFolder : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _folder;
    private bool _handedOver;

    public CacheFolder(TempFolder? folder = null)
    {
        _folder = folder ?? TempFolder.Create("cache");
        Layout = new CacheLayout(_folder.Path);
        Index = CacheIndex.Open(Layout.IndexDirectory, NullLogger.Instance);
        Store = new BlobStore(Layout, Index.Blobs, Time, NullLogger.Instance);
        Pins = Pins.Load(Layout.Root, NullLogger.Instance);
        Images = new ImageBlobs(Store, Index.Tags);
    }

    public TempFolder Folder => _folder;

    public ManualTime Time { get; } = new(T0);

    public CacheLayout Layout { get; }

    public CacheIndex Index { get; }

    public BlobStore Store { get; }

    public Pins Pins { get; }

    public ImageBlobs Images { get; }

    public PodPins PodPins { get; } = new();

    public BlobEviction Eviction(long capacity, double high = 0.9, double low = 0.8) =>
        new(Store, Index.Blobs, CacheQuota.Fixed(capacity, high, low), Pins, Images, PodPins, NullLogger.Instance);

    /// <summary>Caches <paramref name="size"/> bytes derived from <paramref name="name"/> at the current time; returns their digest.</summary>
    public Digest Put(string name, int size = 1000, string mediaType = MediaTypes.OctetStream, DigestAlgorithm algorithm = DigestAlgorithm.Sha256)
    {
        var content = Bytes(name, size);
        var digest = Digest.Compute(algorithm, content);
        Store.Put(digest, content, mediaType);
        return digest;
    }

    public Digest PutJson(string json, string mediaType)
    {
        var content = Encoding.UTF8.GetBytes(json);
        var digest = Digest.Compute(content);
        Store.Put(digest, content, mediaType);
        return digest;
    }

    /// <summary>An image manifest naming a config and layers (all cached), returned with every digest it names.</summary>
    public (Digest Manifest, Digest[] Blobs) PutImage(string name, int layers = 2)
    {
        var config = Put($"{name} config", 200);
        var layerDigests = Enumerable.Range(0, layers).Select(i => Put($"{name} layer {i}", 1000)).ToArray();
        var manifest = PutJson(ManifestJson(config, layerDigests), MediaTypes.OciManifest);
        return (manifest, [config, .. layerDigests]);
    }

    public static string ManifestJson(Digest config, IEnumerable<Digest> layers) =>
        $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{config}}","size":200},"layers":[{{string.Join(',', layers.Select(l => $$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{l}}","size":1000}"""))}}]}""";

    public static string IndexJson(IEnumerable<Digest> manifests) =>
        $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","manifests":[{{string.Join(',', manifests.Select(m => $$"""{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{m}}","size":500}"""))}}]}""";

    public static byte[] Bytes(string name, int size)
    {
        var seed = Encoding.UTF8.GetBytes(name);
        var content = new byte[size];
        for (var i = 0; i < size; i++)
        {
            content[i] = (byte)(seed[i % seed.Length] + i / seed.Length);
        }
        return content;
    }

    /// <summary>Hits the blob at <paramref name="at"/> as a request would.</summary>
    public void Access(Digest digest, DateTimeOffset at)
    {
        Time.Now = at;
        Assert.True(Store.TryGet(digest, out _));
    }

    /// <summary>Ends this cache as a crash would (no checkpoint after <paramref name="checkpointFirst"/>) and opens the same folder again.</summary>
    public async Task<CacheFolder> RestartAsync(bool checkpointFirst)
    {
        if (checkpointFirst)
        {
            await Index.CheckpointAsync();
        }
        Index.Dispose();
        _handedOver = true;
        return new CacheFolder(_folder);
    }

    public void Dispose()
    {
        if (_handedOver)
        {
            return;
        }
        Index.Dispose();
        _folder.Dispose();
    }
}
