using System.IO.Compression;
using System.Text.Json;
using NodeCache.Archive;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Core.Tests.Archive;

public sealed class ImageImportTests : IDisposable
{
    private const string Registry = "harbor.example";
    private readonly ArchiveCache _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public async Task An_oci_layout_folder_is_imported_with_every_blob_and_its_full_name_registered_under_the_registry_given()
    {
        var image = ArchiveImage.Create(1, 3000, 200);
        using var folder = TempFolder.Create("import");
        ArchiveImage.WriteOciLayout(folder.Path, (image, "other.registry:5000/library/app:1.2"));

        var result = await _cache.Import.ImportFolderAsync(folder.Path, new ImportRequest(Registry));

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(4, result.NewBlobs);
        foreach (var blob in image.OciBlobs)
        {
            Assert.Equal(blob, _cache.Read(Digest.Compute(blob)));
        }
        Assert.True(_cache.Tags.TryGet(Registry, RepositoryName.Parse("library/app"), "1.2", out var tag));
        Assert.Equal(image.ManifestDigest, tag.Digest);
        Assert.Equal(MediaTypes.OciManifest, tag.MediaType);
        var imported = Assert.Single(result.Images);
        Assert.Equal([image.ConfigDigest, .. image.GzipLayers.Select(l => Digest.Compute(l)), image.ManifestDigest], imported.Blobs);
        Assert.Empty(_cache.TempFiles);
    }

    [Fact]
    public async Task An_oci_layout_of_sha512_blobs_is_imported_under_blobs_sha512_with_every_blob_checked_by_sha512()
    {
        var image = ArchiveImage.Create(DigestAlgorithm.Sha512, 21, 3000, 200);
        using var folder = TempFolder.Create("import");
        ArchiveImage.WriteOciLayout(folder.Path, (image, "other.registry:5000/library/app:512"));
        Assert.True(File.Exists(Path.Combine(folder.Path, "blobs", "sha512", image.ManifestDigest.Hex)));

        var result = await _cache.Import.ImportFolderAsync(folder.Path, new ImportRequest(Registry));

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(4, result.NewBlobs);
        foreach (var blob in image.OciBlobs)
        {
            var digest = image.DigestOf(blob);
            Assert.Equal(DigestAlgorithm.Sha512, digest.Algorithm);
            Assert.Equal(blob, _cache.Read(digest));
            Assert.True(File.Exists(Path.Combine(_cache.Layout.Root, "blobs", "sha512", digest.Hex)));
            Assert.False(_cache.Store.Contains(Digest.Compute(blob)));
        }
        Assert.True(_cache.Tags.TryGet(Registry, RepositoryName.Parse("library/app"), "512", out var tag));
        Assert.Equal(image.ManifestDigest, tag.Digest);
        Assert.Empty(Directory.GetFiles(_cache.Layout.BlobDirectory(DigestAlgorithm.Sha256)));
        Assert.Empty(_cache.TempFiles);
    }

    [Fact]
    public async Task A_docker_save_tarball_whose_config_gives_sha512_diff_ids_has_its_layers_checked_by_sha512()
    {
        var image = ArchiveImage.Create(DigestAlgorithm.Sha512, 23, 1500);
        var damaged = ArchiveImage.Create(DigestAlgorithm.Sha512, 24, 1500);
        damaged.LayerTars[0][700] ^= 0xFF;

        var result = await _cache.ImportAsync(s => ArchiveImage.WriteDockerSave(s, (image, ["team/app:512"])), new ImportRequest(Registry));
        var refused = await _cache.ImportAsync(s => ArchiveImage.WriteDockerSave(s, (damaged, ["team/bad:512"])), new ImportRequest(Registry));

        Assert.True(result.Succeeded, result.Error);
        // docker stores layers by the SHA-256 of the tar as it is: the manifest made for them names those.
        Assert.Equal(image.LayerTars[0], _cache.Read(Digest.Compute(image.LayerTars[0])));
        Assert.Contains("does not match the diff_id sha512:", refused.Error, StringComparison.Ordinal);
        Assert.False(_cache.Tags.TryGet(Registry, RepositoryName.Parse("team/bad"), "512", out _));
    }

    [Fact]
    public async Task An_oci_layout_that_names_an_image_by_tag_alone_is_imported_under_the_repository_given_and_refused_without_one()
    {
        var image = ArchiveImage.Create(2, 500);

        var refused = await _cache.ImportAsync(s => ArchiveImage.WriteOciLayout(s, (image, "v1")), new ImportRequest(Registry));
        var imported = await _cache.ImportAsync(s => ArchiveImage.WriteOciLayout(s, (image, "v1")), new ImportRequest(Registry, RepositoryName.Parse("team/api")));

        Assert.Contains("give the repository", refused.Error, StringComparison.Ordinal);
        Assert.True(imported.Succeeded, imported.Error);
        Assert.True(_cache.Tags.TryGet(Registry, RepositoryName.Parse("team/api"), "v1", out var tag));
        Assert.Equal(image.ManifestDigest, tag.Digest);
    }

    [Fact]
    public async Task A_docker_save_tarball_becomes_an_oci_manifest_that_names_exactly_the_uncompressed_layer_bytes_stored()
    {
        var image = ArchiveImage.Create(3, 4000, 100);

        var result = await _cache.ImportAsync(s => ArchiveImage.WriteDockerSave(s, (image, ["app:latest", "harbor.example/team/app:7"])), new ImportRequest("docker.io"));

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(2, result.Images.Count);
        Assert.True(_cache.Tags.TryGet("docker.io", RepositoryName.Parse("library/app"), "latest", out var latest));
        Assert.True(_cache.Tags.TryGet("docker.io", RepositoryName.Parse("team/app"), "7", out var seven));
        Assert.Equal(latest.Digest, seven.Digest);
        using var manifest = JsonDocument.Parse(_cache.Read(latest.Digest));
        var root = manifest.RootElement;
        Assert.Equal(MediaTypes.OciManifest, root.GetProperty("mediaType").GetString());
        Assert.Equal(image.ConfigDigest.ToString(), root.GetProperty("config").GetProperty("digest").GetString());
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(image.LayerTars.Length, layers.Count);
        foreach (var (layer, tar) in layers.Zip(image.LayerTars))
        {
            Assert.Equal("application/vnd.oci.image.layer.v1.tar", layer.GetProperty("mediaType").GetString());
            Assert.Equal(Digest.Compute(tar).ToString(), layer.GetProperty("digest").GetString());
            Assert.Equal(tar.Length, layer.GetProperty("size").GetInt64());
            Assert.Equal(tar, _cache.Read(Digest.Compute(tar)));
        }
    }

    [Fact]
    public async Task A_gzipped_docker_save_tarball_imports_the_same_image()
    {
        var image = ArchiveImage.Create(4, 700);
        using var plain = new ArchiveCache();
        var expected = await plain.ImportAsync(s => ArchiveImage.WriteDockerSave(s, (image, ["team/app:1"])), new ImportRequest(Registry));

        var result = await _cache.ImportAsync(
            s =>
            {
                using var gzip = new GZipStream(s, CompressionLevel.Fastest, leaveOpen: true);
                ArchiveImage.WriteDockerSave(gzip, (image, ["team/app:1"]));
            },
            new ImportRequest(Registry));

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(expected.Images[0].Manifest, result.Images[0].Manifest);
    }

    [Fact]
    public async Task A_gzipped_archive_read_from_a_stream_that_cannot_seek_imports_the_same_image()
    {
        var image = ArchiveImage.Create(14, 900);
        using var plain = new ArchiveCache();
        var expected = await plain.ImportAsync(s => ArchiveImage.WriteDockerSave(s, (image, ["team/app:1"])), new ImportRequest(Registry));
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            ArchiveImage.WriteDockerSave(gzip, (image, ["team/app:1"]));
        }
        compressed.Position = 0;
        // What an upload looks like to the import: bytes in order, no seeking, no length.
        var pipe = new System.IO.Pipelines.Pipe();
        var upload = pipe.Reader.AsStream();
        var writing = Task.Run(async () =>
        {
            await compressed.CopyToAsync(pipe.Writer.AsStream());
            await pipe.Writer.CompleteAsync();
        });

        var result = await _cache.Import.ImportAsync(upload, new ImportRequest(Registry));

        await writing;
        Assert.False(upload.CanSeek);
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(expected.Images[0].Manifest, result.Images[0].Manifest);
        Assert.Empty(_cache.TempFiles);
    }

    [Theory]
    [InlineData(DigestAlgorithm.Sha256)]
    [InlineData(DigestAlgorithm.Sha512)]
    public async Task An_archive_with_a_blob_that_does_not_hash_to_its_name_is_refused_and_leaves_nothing_behind(DigestAlgorithm algorithm)
    {
        var good = ArchiveImage.Create(algorithm, 5, 900);
        var bad = ArchiveImage.Create(algorithm, 6, 900);
        using var folder = TempFolder.Create("import");
        ArchiveImage.WriteOciLayout(folder.Path, (good, "library/good:1"), (bad, "library/bad:1"));
        var named = bad.DigestOf(bad.GzipLayers[0]);
        var layer = Path.Combine(folder.Path, "blobs", algorithm.Name, named.Hex);
        var bytes = File.ReadAllBytes(layer);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(layer, bytes);

        var result = await _cache.Import.ImportFolderAsync(folder.Path, new ImportRequest(Registry));

        Assert.False(result.Succeeded);
        Assert.Contains($"blob {named} in the archive hashes to {algorithm.Name}:", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, _cache.BlobCount);
        Assert.Empty(_cache.TempFiles);
        Assert.False(_cache.Tags.TryGet(Registry, RepositoryName.Parse("library/good"), "1", out _));
    }

    [Fact]
    public async Task A_docker_save_layer_that_does_not_match_its_config_diff_id_is_refused()
    {
        var image = ArchiveImage.Create(7, 900);
        image.LayerTars[0][600] ^= 0xFF;

        var result = await _cache.ImportAsync(s => ArchiveImage.WriteDockerSave(s, (image, ["team/app:1"])), new ImportRequest(Registry));

        Assert.Contains("does not match the diff_id", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, _cache.BlobCount);
        Assert.Empty(_cache.TempFiles);
    }

    [Fact]
    public async Task An_image_missing_a_layer_is_refused()
    {
        var image = ArchiveImage.Create(8, 900, 300);
        using var folder = TempFolder.Create("import");
        ArchiveImage.WriteOciLayout(folder.Path, (image, "library/app:1"));
        File.Delete(Path.Combine(folder.Path, "blobs", "sha256", Digest.Compute(image.GzipLayers[1]).Hex));

        var result = await _cache.Import.ImportFolderAsync(folder.Path, new ImportRequest(Registry));

        Assert.Contains("is missing from the archive", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, _cache.BlobCount);
    }

    [Fact]
    public async Task A_file_that_is_no_image_archive_is_refused_with_a_reason()
    {
        var result = await _cache.ImportAsync(s => s.Write("this is not a tar archive at all, just some text that goes on for a while"u8), new ImportRequest(Registry));

        Assert.False(result.Succeeded);
        Assert.Empty(_cache.TempFiles);
    }
}
