using NodeCache.Archive;

namespace NodeCache.Core.Tests.Archive;

public sealed class ImageNameTests
{
    [Theory]
    [InlineData("harbor.example/library/app:1.2", "harbor.example", "library/app", "1.2")]
    [InlineData("127.0.0.1:5000/team/app:v1", "harbor.example", "team/app", "v1")]
    [InlineData("localhost/app:latest", "harbor.example", "app", "latest")]
    [InlineData("team/app:7", "harbor.example", "team/app", "7")]
    [InlineData("nginx:latest", "docker.io", "library/nginx", "latest")]
    [InlineData("nginx:latest", "harbor.example", "nginx", "latest")]
    [InlineData("harbor.example/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "harbor.example", "team/app", null)]
    [InlineData("harbor.example:8443/team/app", "harbor.example", "team/app", null)]
    public void A_name_keeps_its_repository_and_tag_and_drops_its_registry(string text, string registry, string repository, string? tag)
    {
        Assert.True(ImageName.TryParse(text, registry, out var parsedRepository, out var parsedTag));

        Assert.Equal(repository, parsedRepository.Value);
        Assert.Equal(tag, parsedTag);
    }

    [Theory]
    [InlineData("Team/App:1")]
    [InlineData("team/app:bad tag")]
    [InlineData("")]
    public void A_name_outside_the_grammar_is_refused(string text) =>
        Assert.False(ImageName.TryParse(text, "harbor.example", out _, out _));
}
