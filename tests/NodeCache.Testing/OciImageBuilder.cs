using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>
/// Builds real images into a temp folder: gzip'd tar layers of seeded random files, a config whose diff_ids are the
/// digests of each uncompressed tar, a manifest with real digests and sizes, and multi-arch indexes over them. Every
/// digest is of the builder's algorithm (SHA-256 unless told).
/// Layers are streamed to disk in one pass (tar, hash, gzip, hash, write), so a 200 MiB layer costs no memory.
/// Same seed, same calls: same bytes. Disposing deletes every file the built images point at.
/// </summary>
public sealed class OciImageBuilder : IDisposable
{
    public const long KiB = 1024;
    public const long MiB = 1024 * KiB;

    // Fixed so that a layer's bytes depend only on the seed: tar headers carry the mtime.
    private static readonly DateTimeOffset FileTime = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _folder;
    private readonly string _blobs;
    private readonly int _seed;
    private readonly DigestAlgorithm _algorithm;
    private int _layersMade;

    public OciImageBuilder(int seed = 1, DigestAlgorithm algorithm = DigestAlgorithm.Sha256)
    {
        _seed = seed;
        _algorithm = algorithm;
        _folder = TempFolder.Create("images");
        _blobs = _folder.Combine("blobs", create: true);
    }

    public string Folder => _folder.Path;

    /// <summary>
    /// One image. Each entry of <paramref name="layerSizes"/> is a layer holding that many bytes of random file
    /// content (split over <paramref name="filesPerLayer"/> files); random bytes do not compress, so the blob comes
    /// out a few percent bigger than that. Every layer this builder makes has content of its own.
    /// </summary>
    public async Task<BuiltImage> BuildAsync(
        string repository,
        string? tag,
        IReadOnlyList<long> layerSizes,
        ManifestFormat format = ManifestFormat.Oci,
        string architecture = "amd64",
        int filesPerLayer = 1,
        CancellationToken cancellationToken = default)
    {
        var layers = new List<BlobFile>();
        var diffIds = new List<Digest>();
        foreach (var size in layerSizes)
        {
            var (layer, diffId) = await WriteLayerAsync(size, filesPerLayer, format, cancellationToken);
            layers.Add(layer);
            diffIds.Add(diffId);
        }
        var config = new JsonObject
        {
            ["created"] = FileTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                ["Cmd"] = new JsonArray("/bin/sh"),
            },
            ["rootfs"] = new JsonObject
            {
                ["type"] = "layers",
                ["diff_ids"] = new JsonArray([.. diffIds.Select(d => JsonValue.Create(d.ToString()))]),
            },
        };
        var configBlob = await WriteJsonBlobAsync(config, format.Config(), cancellationToken);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = format.Manifest(),
            ["config"] = configBlob.ToDescriptor(),
            ["layers"] = new JsonArray([.. layers.Select(l => l.ToDescriptor())]),
        };
        var manifestBlob = await WriteJsonBlobAsync(manifest, format.Manifest(), cancellationToken);
        return new BuiltImage(repository, tag, architecture, manifestBlob, configBlob, layers, diffIds);
    }

    /// <summary>A multi-arch image: one image per architecture (amd64 and arm64 unless told), each with its own layers, under one index.</summary>
    public async Task<BuiltIndex> BuildIndexAsync(
        string repository,
        string tag,
        IReadOnlyList<long> layerSizes,
        ManifestFormat format = ManifestFormat.Oci,
        IReadOnlyList<string>? architectures = null,
        CancellationToken cancellationToken = default)
    {
        var images = new List<BuiltImage>();
        foreach (var architecture in architectures ?? ["amd64", "arm64"])
        {
            images.Add(await BuildAsync(repository, null, layerSizes, format, architecture, cancellationToken: cancellationToken));
        }
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = format.Index(),
            ["manifests"] = new JsonArray([.. images.Select(i =>
            {
                var descriptor = i.Manifest.ToDescriptor();
                descriptor["platform"] = new JsonObject { ["architecture"] = i.Architecture, ["os"] = "linux" };
                return (JsonNode)descriptor;
            })]),
        };
        var indexBlob = await WriteJsonBlobAsync(index, format.Index(), cancellationToken);
        return new BuiltIndex(repository, tag, indexBlob, images);
    }

    public void Dispose() => _folder.Dispose();

    private async Task<(BlobFile Layer, Digest DiffId)> WriteLayerAsync(long size, int files, ManifestFormat format, CancellationToken cancellationToken)
    {
        var number = Interlocked.Increment(ref _layersMade);
        var temporary = Path.Combine(_blobs, $"layer-{number}.partial");
        Digest digest, diffId;
        long compressedSize;
        await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
        await using (var compressed = new DigestingStream(file, leaveOpen: true, _algorithm))
        {
            await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            await using (var uncompressed = new DigestingStream(gzip, leaveOpen: true, _algorithm))
            {
                await using (var tar = new TarWriter(uncompressed, TarEntryFormat.Ustar, leaveOpen: true))
                {
                    var folder = $"layer-{number}/";
                    await tar.WriteEntryAsync(new UstarTarEntry(TarEntryType.Directory, folder) { Mode = Permissions("755"), ModificationTime = FileTime }, cancellationToken);
                    for (var i = 0; i < files; i++)
                    {
                        // Sizes split as evenly as whole bytes allow; the first files take the remainder.
                        var fileSize = size / files + (i < size % files ? 1 : 0);
                        await using var content = new SeededRandomStream(FileSeed(number, i), fileSize);
                        var entry = new UstarTarEntry(TarEntryType.RegularFile, $"{folder}file-{i}.bin")
                        {
                            Mode = Permissions("644"),
                            ModificationTime = FileTime,
                            DataStream = content,
                        };
                        await tar.WriteEntryAsync(entry, cancellationToken);
                    }
                }
                diffId = uncompressed.Digest();
            }
            digest = compressed.Digest();
            compressedSize = compressed.BytesWritten;
        }
        var path = BlobPath(digest);
        File.Move(temporary, path, overwrite: true);
        return (new BlobFile(format.Layer(), digest, compressedSize, path), diffId);
    }

    private async Task<BlobFile> WriteJsonBlobAsync(JsonObject json, string mediaType, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(json);
        var digest = Digest.Compute(_algorithm, bytes);
        var path = BlobPath(digest);
        await File.WriteAllBytesAsync(path, bytes, cancellationToken);
        return new BlobFile(mediaType, digest, bytes.Length, path);
    }

    // Not HashCode.Combine: that is salted per process, and the bytes must be the same in every run.
    private int FileSeed(int layer, int file) => unchecked((_seed * 1_000_003) + (layer * 7_919) + file);

    private string BlobPath(Digest digest) => Path.Combine(_blobs, digest.Hex);

    private static UnixFileMode Permissions(string octal) => (UnixFileMode)Convert.ToInt32(octal, 8);
}
