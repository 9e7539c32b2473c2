using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using NodeCache.Testing;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Testing;

public sealed class OciImageBuilderTests
{
    [Fact]
    public async Task Layers_are_gzipped_tars_whose_digests_and_diff_ids_match_their_bytes()
    {
        using var builder = new OciImageBuilder(seed: 41);

        var image = await builder.BuildAsync("library/app", "1", [100 * OciImageBuilder.KiB, 10], filesPerLayer: 3);

        for (var i = 0; i < image.Layers.Count; i++)
        {
            var layer = image.Layers[i];
            Assert.Equal(layer.Size, new FileInfo(layer.Path).Length);
            Assert.Equal(layer.Digest, Digest.FromHash(await HashFileAsync(layer.Path)));
            await using var gzip = new GZipStream(layer.OpenRead(), CompressionMode.Decompress);
            using var tar = new MemoryStream();
            await gzip.CopyToAsync(tar);
            Assert.Equal(image.DiffIds[i], Digest.Compute(tar.ToArray()));
            tar.Position = 0;
            var files = new List<long>();
            await using var reader = new TarReader(tar);
            while (await reader.GetNextEntryAsync() is { } entry)
            {
                if (entry.EntryType == TarEntryType.RegularFile)
                {
                    files.Add(entry.Length);
                }
            }
            Assert.Equal(3, files.Count);
            Assert.Equal(i == 0 ? 100 * OciImageBuilder.KiB : 10, files.Sum());
        }
        using var config = JsonDocument.Parse(image.Config.ReadAllBytes());
        Assert.Equal("amd64", config.RootElement.GetProperty("architecture").GetString());
        Assert.Equal(image.DiffIds.Select(d => d.ToString()), config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(e => e.GetString()));
        using var manifest = JsonDocument.Parse(image.ManifestBytes);
        Assert.Equal(image.Config.Digest.ToString(), manifest.RootElement.GetProperty("config").GetProperty("digest").GetString());
        Assert.Equal(image.Layers.Select(l => l.Size), manifest.RootElement.GetProperty("layers").EnumerateArray().Select(e => e.GetProperty("size").GetInt64()));
    }

    [Fact]
    public async Task The_same_seed_builds_the_same_bytes_and_another_seed_other_bytes()
    {
        using var first = new OciImageBuilder(seed: 42);
        using var again = new OciImageBuilder(seed: 42);
        using var other = new OciImageBuilder(seed: 43);

        var a = await first.BuildAsync("library/app", "1", [8 * OciImageBuilder.KiB]);
        var b = await again.BuildAsync("library/app", "1", [8 * OciImageBuilder.KiB]);
        var c = await other.BuildAsync("library/app", "1", [8 * OciImageBuilder.KiB]);

        Assert.Equal(a.ManifestDigest, b.ManifestDigest);
        Assert.NotEqual(a.Layers[0].Digest, c.Layers[0].Digest);
    }

    [Fact]
    public async Task A_200_MiB_layer_streams_to_disk_without_being_held_in_memory()
    {
        using var builder = new OciImageBuilder(seed: 44);
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var clock = Stopwatch.StartNew();

        var image = await builder.BuildAsync("library/huge", "1", [200 * OciImageBuilder.MiB]);

        clock.Stop();
        var layer = image.Layers[0];
        // Deflate's fastest level wraps random bytes in Huffman blocks a few percent bigger than the input.
        Assert.InRange(layer.Size, 200 * OciImageBuilder.MiB, 212 * OciImageBuilder.MiB);
        Assert.Equal(layer.Digest, Digest.FromHash(await HashFileAsync(layer.Path)));
        // Process-wide, since the build hops threads, so tests running alongside add to it: the bound only has to
        // show that the layer was never buffered whole (that alone would be over 200 MiB).
        var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        Assert.True(allocated < 100 * OciImageBuilder.MiB, $"allocated {allocated} bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    private static async Task<byte[]> HashFileAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return await SHA256.HashDataAsync(file);
    }
}
