using System.Text;
using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class ImageManifestTests
{
    private static readonly string Config = "sha256:" + new string('c', 64);
    private static readonly string Layer = "sha256:" + new string('1', 64);
    private static readonly string Amd64 = "sha256:" + new string('a', 64);
    private static readonly string Arm64V8 = "sha256:" + new string('b', 64);

    [Fact]
    public void An_image_manifest_names_its_config_then_its_layers()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Config}}","size":1234},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{Layer}}","size":56789}]}
            """;

        var manifest = ImageManifest.TryParse(Encoding.UTF8.GetBytes(json), MediaTypes.OciManifest, out _)!;

        Assert.False(manifest.IsIndex);
        Assert.Equal([(Config, 1234L), (Layer, 56789L)], manifest.Blobs.Select(b => (b.Digest.ToString(), b.Size)));
    }

    [Fact]
    public void An_index_entry_is_found_by_platform_with_or_without_its_variant()
    {
        var json = $$$"""
            {"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[
              {"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{Amd64}}}","size":500,"platform":{"os":"linux","architecture":"amd64"}},
              {"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{Arm64V8}}}","size":501,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}
            """;

        var index = ImageManifest.TryParse(Encoding.UTF8.GetBytes(json), MediaTypes.OciIndex, out _)!;

        Assert.True(index.IsIndex);
        Assert.Equal(Amd64, index.ForPlatform(Parse("linux/amd64"))!.Digest.ToString());
        Assert.Equal(Arm64V8, index.ForPlatform(Parse("linux/arm64"))!.Digest.ToString());
        Assert.Equal(Arm64V8, index.ForPlatform(Parse("linux/arm64/v8"))!.Digest.ToString());
        Assert.Null(index.ForPlatform(Parse("linux/s390x")));
    }

    [Fact]
    public void Bytes_that_are_not_a_manifest_are_refused_with_the_reason()
    {
        Assert.Null(ImageManifest.TryParse("not json"u8, MediaTypes.OciManifest, out var error));
        Assert.StartsWith("not a manifest or index", error, StringComparison.Ordinal);
        Assert.Null(ImageManifest.TryParse("""{"layers":[{"digest":"sha256:zz","size":1}]}"""u8, MediaTypes.OciManifest, out _));
    }

    private static Platform Parse(string text) => Platform.TryParse(text, out var platform) ? platform : throw new FormatException(text);
}
