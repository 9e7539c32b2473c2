using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class MediaTypesTests
{
    [Theory]
    [InlineData(null, MediaTypes.OciIndex, true)]
    [InlineData("", MediaTypes.OciIndex, true)]
    [InlineData(MediaTypes.ManifestAccept, MediaTypes.DockerManifest, true)]
    [InlineData("application/vnd.oci.image.manifest.v1+json", MediaTypes.OciIndex, false)]
    [InlineData("application/vnd.oci.image.index.v1+json; q=0.5, text/plain", MediaTypes.OciIndex, true)]
    [InlineData("*/*", MediaTypes.DockerManifestList, true)]
    [InlineData("application/*", MediaTypes.OciManifest, true)]
    public void Accept_admits_a_media_type_as_containerd_means_it(string? accept, string mediaType, bool accepted)
    {
        Assert.Equal(accepted, MediaTypes.IsAccepted(accept, mediaType));
    }

    [Fact]
    public void Indexes_are_the_list_types()
    {
        Assert.True(MediaTypes.IsIndex(MediaTypes.OciIndex));
        Assert.True(MediaTypes.IsIndex(MediaTypes.DockerManifestList));
        Assert.False(MediaTypes.IsIndex(MediaTypes.OciManifest));
    }
}
