using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("nginx", "docker.io", "library/nginx", "latest")]
    [InlineData("nginx:1.27", "docker.io", "library/nginx", "1.27")]
    [InlineData("bitnami/redis:7", "docker.io", "bitnami/redis", "7")]
    [InlineData("index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1")]
    [InlineData("harbor.example/team/app:2", "harbor.example", "team/app", "2")]
    [InlineData("127.0.0.1:5000/app:3", "127.0.0.1:5000", "app", "3")]
    [InlineData("localhost/app", "localhost", "app", "latest")]
    [InlineData("Harbor.Example/team/app:v1", "harbor.example", "team/app", "v1")]
    public void Names_are_normalised_as_containerd_does(string text, string registry, string repository, string reference)
    {
        Assert.True(ImageReference.TryParse(text, out var image));
        Assert.Equal(registry, image.Registry);
        Assert.Equal(repository, image.Repository.Value);
        Assert.Equal(reference, image.Reference);
    }

    [Fact]
    public void A_digest_is_the_reference_even_with_a_tag()
    {
        var digest = "sha256:" + new string('c', 64);
        Assert.True(ImageReference.TryParse($"harbor.example/team/app:1@{digest}", out var image));
        Assert.Equal(digest, image.Reference);
        Assert.Equal("1", image.Tag);
    }

    [Theory]
    [InlineData("")]
    [InlineData("UPPER/case")]
    [InlineData("harbor.example/app@sha256:short")]
    [InlineData("harbor.example/app:bad tag")]
    public void Malformed_names_are_refused(string text) => Assert.False(ImageReference.TryParse(text, out _));
}
