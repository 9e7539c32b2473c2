using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Archive;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Telemetry;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Archive;

/// <summary>A real cache (files and FASTER index) in a temp folder, with the import and export over it.</summary>
internal sealed class ArchiveCache : IDisposable
{
    private readonly TempFolder _folder = TempFolder.Create("archive-cache");
    private readonly CacheIndex _index;
    private readonly PolicyMetrics _metrics = new();

    public ArchiveCache()
    {
        Layout = new CacheLayout(_folder.Path);
        _index = CacheIndex.Open(Layout.IndexDirectory, NullLogger.Instance);
        Store = new BlobStore(Layout, _index.Blobs, TimeProvider.System, NullLogger.Instance);
        Import = new ImageImport(Layout, Store, _index.Tags, _metrics, TimeProvider.System, NullLogger.Instance);
        Export = new ImageExport(Store, _index.Tags);
    }

    public CacheLayout Layout { get; }

    public BlobStore Store { get; }

    public TagIndex Tags => _index.Tags;

    public long BlobCount => _index.Blobs.Count;

    public ImageImport Import { get; }

    public ImageExport Export { get; }

    public string[] TempFiles => Directory.GetFiles(Layout.TempDirectory);

    public byte[] Read(Digest digest)
    {
        Assert.True(Store.TryGet(digest, out var blob), $"{digest} is not cached");
        return File.ReadAllBytes(blob.Path);
    }

    public async Task<ImportResult> ImportAsync(Action<Stream> write, ImportRequest request)
    {
        using var archive = new MemoryStream();
        write(archive);
        archive.Position = 0;
        return await Import.ImportAsync(archive, request);
    }

    public void Dispose()
    {
        _index.Dispose();
        _metrics.Dispose();
        _folder.Dispose();
    }
}
