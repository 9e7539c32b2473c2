using NodeCache.Oci;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NodeCache.Testing;

/// <summary>Writes built images as the archives air-gapped clusters carry: an OCI image layout tar, and a <c>docker save</c> tarball.</summary>
public static class ImageArchive
{
    /// <summary>An OCI image layout tar (as <c>skopeo copy oci-archive:</c> writes it) naming each image by <c>org.opencontainers.image.ref.name</c>.</summary>
    public static async Task WriteOciLayoutAsync(Stream output, IReadOnlyList<(BuiltImage Image, string RefName)> images, CancellationToken cancellationToken = default)
    {
        await using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await AddAsync(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray(), cancellationToken);
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray([.. images.Select(i =>
            {
                var descriptor = i.Image.Manifest.ToDescriptor();
                descriptor["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = i.RefName };
                return (JsonNode)descriptor;
            })]),
        };
        await AddAsync(tar, "index.json", JsonSerializer.SerializeToUtf8Bytes(index), cancellationToken);
        foreach (var blob in images.SelectMany(i => (IEnumerable<BlobFile>)[i.Image.Manifest, .. i.Image.Blobs]).DistinctBy(b => b.Digest))
        {
            await AddAsync(tar, $"blobs/{blob.Digest.Algorithm.Name}/{blob.Digest.Hex}", blob.ReadAllBytes(), cancellationToken);
        }
    }

    /// <summary>
    /// A <c>docker save</c> tarball as docker 20–24 write it: <c>manifest.json</c>, the config as <c>&lt;hex&gt;.json</c> and each
    /// layer uncompressed as <c>&lt;id&gt;/layer.tar</c>, so the layer bytes are those its config's diff_ids name.
    /// </summary>
    public static async Task WriteDockerSaveAsync(Stream output, BuiltImage image, string repoTag, CancellationToken cancellationToken = default)
    {
        await using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var configName = $"{image.Config.Digest.Hex}.json";
        await AddAsync(tar, configName, image.Config.ReadAllBytes(), cancellationToken);
        var layers = new JsonArray();
        foreach (var (layer, diffId) in image.Layers.Zip(image.DiffIds))
        {
            using var uncompressed = new MemoryStream();
            await using (var gzip = new GZipStream(layer.OpenRead(), CompressionMode.Decompress))
            {
                await gzip.CopyToAsync(uncompressed, cancellationToken);
            }
            var name = $"{diffId.Hex}/layer.tar";
            await AddAsync(tar, name, uncompressed.ToArray(), cancellationToken);
            layers.Add(name);
        }
        var manifest = new JsonArray(new JsonObject { ["Config"] = configName, ["RepoTags"] = new JsonArray(repoTag), ["Layers"] = layers });
        await AddAsync(tar, "manifest.json", JsonSerializer.SerializeToUtf8Bytes(manifest), cancellationToken);
    }

    private static Task AddAsync(TarWriter tar, string path, byte[] bytes, CancellationToken cancellationToken) =>
        tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(bytes), ModificationTime = DateTimeOffset.UnixEpoch }, cancellationToken);
}
