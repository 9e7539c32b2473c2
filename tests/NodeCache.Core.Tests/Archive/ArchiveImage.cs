using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using NodeCache.Oci;

namespace NodeCache.Core.Tests.Archive;

/// <summary>
/// A small real image (gzip'd layers of random files, a config with their diff_ids, an OCI manifest), and the archives
/// that hold it: an OCI image layout (folder or tar) and a <c>docker save</c> tarball with uncompressed layers. Every digest
/// the image names (descriptors, diff_ids, layout paths) is of one algorithm.
/// </summary>
internal sealed class ArchiveImage
{
    private ArchiveImage(DigestAlgorithm algorithm, byte[][] tars, byte[][] gzips, byte[] config, byte[] manifest)
    {
        (Algorithm, LayerTars, GzipLayers, Config, Manifest) = (algorithm, tars, gzips, config, manifest);
    }

    public DigestAlgorithm Algorithm { get; }

    /// <summary>The uncompressed layer tars: what docker save writes, and whose digests are the diff_ids.</summary>
    public byte[][] LayerTars { get; }

    public byte[][] GzipLayers { get; }

    public byte[] Config { get; }

    public byte[] Manifest { get; }

    public Digest ManifestDigest => DigestOf(Manifest);

    public Digest ConfigDigest => DigestOf(Config);

    public IEnumerable<byte[]> OciBlobs => [Config, .. GzipLayers, Manifest];

    /// <summary>The digest the image names <paramref name="blob"/> by.</summary>
    public Digest DigestOf(byte[] blob) => Digest.Compute(Algorithm, blob);

    public static ArchiveImage Create(int seed, params int[] layerSizes) => Create(DigestAlgorithm.Sha256, seed, layerSizes);

    public static ArchiveImage Create(DigestAlgorithm algorithm, int seed, params int[] layerSizes)
    {
        var random = new Random(seed);
        var tars = layerSizes.Select((size, i) => LayerTar(random, $"layer-{seed}-{i}", size)).ToArray();
        var gzips = tars.Select(Gzip).ToArray();
        var config = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Cmd"] = new JsonArray("/bin/sh") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray([.. tars.Select(t => JsonValue.Create(Digest.Compute(algorithm, t).ToString()))]) },
        });
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", Digest.Compute(algorithm, config), config),
            ["layers"] = new JsonArray([.. gzips.Select(g => (JsonNode)Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Digest.Compute(algorithm, g), g))]),
        });
        return new ArchiveImage(algorithm, tars, gzips, config, manifest);
    }

    /// <summary>An OCI image layout tar; each image is named by the annotation given (a tag alone, or a full name).</summary>
    public static void WriteOciLayout(Stream output, params (ArchiveImage Image, string? RefName)[] images)
    {
        using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var (path, bytes) in OciLayoutFiles(images))
        {
            Add(tar, path, bytes);
        }
    }

    public static void WriteOciLayout(string folder, params (ArchiveImage Image, string? RefName)[] images)
    {
        foreach (var (path, bytes) in OciLayoutFiles(images))
        {
            var file = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, bytes);
        }
    }

    /// <summary>A docker save tarball as docker 20–24 write it: manifest.json, "&lt;hex&gt;.json" configs, "&lt;id&gt;/layer.tar" uncompressed.</summary>
    public static void WriteDockerSave(Stream output, params (ArchiveImage Image, string[] RepoTags)[] images)
    {
        using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var manifest = new JsonArray();
        foreach (var (image, repoTags) in images)
        {
            var configName = $"{image.ConfigDigest.Hex}.json";
            Add(tar, configName, image.Config);
            var layers = new JsonArray();
            foreach (var layer in image.LayerTars)
            {
                var name = $"{Digest.Compute(layer).Hex}/layer.tar";
                Add(tar, name, layer);
                layers.Add(name);
            }
            manifest.Add(new JsonObject { [nameof(Config)] = configName, ["RepoTags"] = new JsonArray([.. repoTags.Select(t => JsonValue.Create(t))]), ["Layers"] = layers });
        }
        Add(tar, "manifest.json", JsonSerializer.SerializeToUtf8Bytes(manifest));
    }

    private static IEnumerable<(string Path, byte[] Bytes)> OciLayoutFiles((ArchiveImage Image, string? RefName)[] images)
    {
        // Blobs first and index.json last, as many writers do: the reader must not depend on the order.
        foreach (var (image, blob) in images.SelectMany(i => i.Image.OciBlobs.Select(b => (i.Image, Blob: b))).DistinctBy(b => b.Image.DigestOf(b.Blob)))
        {
            var digest = image.DigestOf(blob);
            yield return ($"blobs/{digest.Algorithm.Name}/{digest.Hex}", blob);
        }
        yield return ("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray());
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray([.. images.Select(i =>
            {
                var descriptor = Descriptor(MediaTypes.OciManifest, i.Image.ManifestDigest, i.Image.Manifest);
                if (i.RefName is not null)
                {
                    descriptor["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = i.RefName };
                }
                return (JsonNode)descriptor;
            })]),
        };
        yield return ("index.json", JsonSerializer.SerializeToUtf8Bytes(index));
    }

    private static JsonObject Descriptor(string mediaType, Digest digest, byte[] bytes) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = digest.ToString(),
        ["size"] = bytes.Length,
    };

    private static byte[] LayerTar(Random random, string name, int size)
    {
        var content = new byte[size];
        random.NextBytes(content);
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), ModificationTime = DateTimeOffset.UnixEpoch });
        }
        return buffer.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }
        return buffer.ToArray();
    }

    private static void Add(TarWriter tar, string path, byte[] bytes) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(bytes), ModificationTime = DateTimeOffset.UnixEpoch });
}
