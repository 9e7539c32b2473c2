using NodeCache.Archive;
using NodeCache.Oci;

namespace NodeCache.Core.Tests.Archive;

public sealed class ImageExportTests : IDisposable
{
    private const string Registry = "harbor.example";
    private readonly ArchiveCache _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public async Task Export_then_import_into_another_cache_gives_the_same_digests_and_tags()
    {
        var first = ArchiveImage.Create(11, 2000, 50);
        var second = ArchiveImage.Create(12, 1000);
        var imported = await _cache.ImportAsync(s => ArchiveImage.WriteDockerSave(s, (first, ["team/one:1"]), (second, ["team/two:2"])), new ImportRequest(Registry));
        Assert.True(imported.Succeeded, imported.Error);
        using var archive = new MemoryStream();

        var exported = await _cache.Export.ExportAsync(
            [new ExportReference(Registry, RepositoryName.Parse("team/one"), "1"), new ExportReference(Registry, RepositoryName.Parse("team/two"), imported.Images[1].Manifest.ToString())],
            archive);
        archive.Position = 0;
        using var other = new ArchiveCache();
        var reimported = await other.Import.ImportAsync(archive, new ImportRequest(Registry));

        Assert.True(exported.Succeeded, exported.Error);
        Assert.Equal(2, exported.Images);
        Assert.True(reimported.Succeeded, reimported.Error);
        Assert.Equal(imported.Images.Select(i => i.Manifest), reimported.Images.Select(i => i.Manifest));
        Assert.Equal(imported.Images.SelectMany(i => i.Blobs).Order(DigestOrder.Instance), reimported.Images.SelectMany(i => i.Blobs).Order(DigestOrder.Instance));
        foreach (var digest in imported.Images.SelectMany(i => i.Blobs))
        {
            Assert.Equal(_cache.Read(digest), other.Read(digest));
        }
        Assert.True(other.Tags.TryGet(Registry, RepositoryName.Parse("team/one"), "1", out var tag));
        Assert.Equal(imported.Images[0].Manifest, tag.Digest);
        Assert.Null(reimported.Images[1].Tag);
    }

    [Fact]
    public async Task A_sha512_image_is_exported_under_blobs_sha512_and_imports_into_another_cache_with_the_same_digests()
    {
        var image = ArchiveImage.Create(DigestAlgorithm.Sha512, 14, 1200, 300);
        var imported = await _cache.ImportAsync(s => ArchiveImage.WriteOciLayout(s, (image, "team/app:512")), new ImportRequest(Registry));
        Assert.True(imported.Succeeded, imported.Error);
        using var archive = new MemoryStream();

        var exported = await _cache.Export.ExportAsync([new ExportReference(Registry, RepositoryName.Parse("team/app"), "512")], archive);
        archive.Position = 0;
        var paths = new List<string>();
        using (var reader = new System.Formats.Tar.TarReader(archive, leaveOpen: true))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                paths.Add(entry.Name);
            }
        }
        archive.Position = 0;
        using var other = new ArchiveCache();
        var reimported = await other.Import.ImportAsync(archive, new ImportRequest(Registry));

        Assert.True(exported.Succeeded, exported.Error);
        Assert.Equal(
            image.OciBlobs.Select(b => $"blobs/sha512/{image.DigestOf(b).Hex}").Order(StringComparer.Ordinal),
            paths.Where(p => p.StartsWith("blobs/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.True(reimported.Succeeded, reimported.Error);
        Assert.Equal(image.ManifestDigest, Assert.Single(reimported.Images).Manifest);
        foreach (var blob in image.OciBlobs)
        {
            Assert.Equal(blob, other.Read(image.DigestOf(blob)));
        }
    }

    [Fact]
    public async Task Exporting_the_same_images_twice_writes_the_same_bytes()
    {
        var image = ArchiveImage.Create(13, 800);
        await _cache.ImportAsync(s => ArchiveImage.WriteOciLayout(s, (image, "team/app:1")), new ImportRequest(Registry));
        ExportReference[] references = [new(Registry, RepositoryName.Parse("team/app"), "1")];
        using var once = new MemoryStream();
        using var twice = new MemoryStream();

        await _cache.Export.ExportAsync(references, once);
        await _cache.Export.ExportAsync(references, twice);

        Assert.Equal(once.ToArray(), twice.ToArray());
    }

    [Fact]
    public async Task Exporting_an_image_that_is_not_completely_cached_fails_before_writing_anything()
    {
        var image = ArchiveImage.Create(14, 800);
        await _cache.ImportAsync(s => ArchiveImage.WriteOciLayout(s, (image, "team/app:1")), new ImportRequest(Registry));
        File.Delete(_cache.Layout.BlobPath(Digest.Compute(image.GzipLayers[0])));
        using var archive = new MemoryStream();

        var missingLayer = await _cache.Export.ExportAsync([new(Registry, RepositoryName.Parse("team/app"), "1")], archive);
        var unknownTag = await _cache.Export.ExportAsync([new(Registry, RepositoryName.Parse("team/app"), "2")], archive);

        Assert.Contains("is not cached", missingLayer.Error, StringComparison.Ordinal);
        Assert.Contains("harbor.example/team/app:2 is not cached", unknownTag.Error, StringComparison.Ordinal);
        Assert.Equal(0, archive.Length);
    }

    private sealed class DigestOrder : IComparer<Digest>
    {
        public static readonly DigestOrder Instance = new();

        public int Compare(Digest x, Digest y) => string.CompareOrdinal(x.ToString(), y.ToString());
    }
}
