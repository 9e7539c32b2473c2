using NodeCache.Agent.Registry;

namespace NodeCache.Agent.Tests.Registry;

public sealed class RegistryPathTests
{
    [Theory]
    [InlineData("", nameof(RegistryResource.ApiBase), "", "")]
    [InlineData("/", nameof(RegistryResource.ApiBase), "", "")]
    [InlineData("/library/nginx/manifests/latest", nameof(RegistryResource.Manifest), "library/nginx", "latest")]
    [InlineData("/a/b/c/d/manifests/sha256:abc", nameof(RegistryResource.Manifest), "a/b/c/d", "sha256:abc")]
    [InlineData("/nginx/blobs/sha256:abc", nameof(RegistryResource.Blob), "nginx", "sha256:abc")]
    [InlineData("/team/blobs/manifests/v1", nameof(RegistryResource.Manifest), "team/blobs", "v1")]
    [InlineData("/team/manifests/blobs/sha256:abc", nameof(RegistryResource.Blob), "team/manifests", "sha256:abc")]
    [InlineData("/nginx/blobs/uploads/", nameof(RegistryResource.Unsupported), "nginx", "")]
    [InlineData("/nginx/blobs/uploads/some-uuid", nameof(RegistryResource.Unsupported), "nginx", "")]
    [InlineData("/nginx/tags/list", nameof(RegistryResource.TagList), "nginx", "")]
    [InlineData("/nginx/referrers/sha256:abc", nameof(RegistryResource.Referrers), "nginx", "sha256:abc")]
    [InlineData("/nginx", nameof(RegistryResource.Unknown), "", "")]
    [InlineData("/manifests/latest", nameof(RegistryResource.Unknown), "", "")]
    [InlineData("/nginx/things/x", nameof(RegistryResource.Unknown), "", "")]
    public void Paths_split_into_repository_and_reference_from_the_end(string path, string resource, string name, string reference)
    {
        var parsed = RegistryPath.Parse(path);

        Assert.Equal(Enum.Parse<RegistryResource>(resource), parsed.Resource);
        Assert.Equal(name, parsed.Name);
        Assert.Equal(reference, parsed.Reference);
    }
}
