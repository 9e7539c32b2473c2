using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("nginx", "docker.io", "library/nginx", "latest", null)]
    [InlineData("nginx:1.27", "docker.io", "library/nginx", "1.27", null)]
    [InlineData("bitnami/redis:7", "docker.io", "bitnami/redis", "7", null)]
    [InlineData("docker.io/library/alpine:3", "docker.io", "library/alpine", "3", null)]
    [InlineData("index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", null)]
    [InlineData("registry-1.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", null)]
    [InlineData("harbor.example/team/app:1.4", "harbor.example", "team/app", "1.4", null)]
    [InlineData("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", null)]
    [InlineData("localhost/app:dev", "localhost", "app", "dev", null)]
    [InlineData("Harbor.Example/team/app:1", "harbor.example", "team/app", "1", null)]
    public void A_reference_is_normalised_the_way_containerd_names_images(string text, string registry, string repository, string tag, string? digest)
    {
        Assert.True(ImageReference.TryParse(text, out var reference, out var error), error);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository.Value);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest?.ToString());
        Assert.Equal(tag, reference.Reference);
    }

    [Fact]
    public void A_digest_pins_the_reference_even_with_a_tag()
    {
        var digest = "sha256:" + new string('a', 64);

        Assert.True(ImageReference.TryParse($"harbor.example/team/app:1@{digest}", out var tagged, out _));
        Assert.True(ImageReference.TryParse($"harbor.example/team/app@{digest}", out var untagged, out _));

        Assert.Equal(digest, tagged.Reference);
        Assert.Equal("1", tagged.Tag);
        Assert.Null(untagged.Tag);
        Assert.Equal(digest, untagged.Reference);
        Assert.Equal($"harbor.example/team/app@{digest}", untagged.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" nginx")]
    [InlineData("Team/App:1")]
    [InlineData("harbor.example/team/app:bad tag")]
    [InlineData("harbor.example/team/app@sha256:abc")]
    [InlineData("harbor.example/team/app:-x")]
    public void A_reference_that_names_no_image_is_refused_with_the_reason(string text)
    {
        Assert.False(ImageReference.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("team/app:1", "harbor.example/team/app:1")]
    [InlineData("nginx", "harbor.example/nginx:latest")]
    [InlineData("docker.io/nginx", "docker.io/library/nginx:latest")]
    [InlineData("ghcr.io/org/tool:2", "ghcr.io/org/tool:2")]
    public void A_name_without_a_registry_is_the_default_registrys_and_only_docker_hub_adds_library(string text, string expected)
    {
        Assert.True(ImageReference.TryParse(text, "harbor.example", out var reference, out _));
        Assert.Equal(expected, reference.ToString());
    }

    [Fact]
    public void A_bad_one_part_name_is_reported_as_typed()
    {
        Assert.False(ImageReference.TryParse("Team:1", out _, out var error));
        Assert.Equal("'Team' is not a valid repository name", error);
    }
}
