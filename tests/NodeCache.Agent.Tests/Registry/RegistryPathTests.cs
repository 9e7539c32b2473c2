using NodeCache.Agent.Registry;

namespace NodeCache.Agent.Tests.Registry;

public sealed class RegistryPathTests
{
    [Theory]
    [InlineData("", RegistryResource.ApiBase, "", "")]
    [InlineData("/", RegistryResource.ApiBase, "", "")]
    [InlineData("/library/nginx/manifests/latest", RegistryResource.Manifest, "library/nginx", "latest")]
    [InlineData("/a/b/c/d/manifests/sha256:abc", RegistryResource.Manifest, "a/b/c/d", "sha256:abc")]
    [InlineData("/nginx/blobs/sha256:abc", RegistryResource.Blob, "nginx", "sha256:abc")]
    [InlineData("/team/blobs/manifests/v1", RegistryResource.Manifest, "team/blobs", "v1")]
    [InlineData("/team/manifests/blobs/sha256:abc", RegistryResource.Blob, "team/manifests", "sha256:abc")]
    [InlineData("/nginx/blobs/uploads/", RegistryResource.Unsupported, "nginx", "")]
    [InlineData("/nginx/blobs/uploads/some-uuid", RegistryResource.Unsupported, "nginx", "")]
    [InlineData("/nginx/tags/list", RegistryResource.Unsupported, "nginx", "")]
    [InlineData("/nginx/referrers/sha256:abc", RegistryResource.Unsupported, "nginx", "")]
    [InlineData("/nginx", RegistryResource.Unknown, "", "")]
    [InlineData("/manifests/latest", RegistryResource.Unknown, "", "")]
    [InlineData("/nginx/things/x", RegistryResource.Unknown, "", "")]
    public void Paths_split_into_repository_and_reference_from_the_end(string path, RegistryResource resource, string name, string reference)
    {
        var parsed = RegistryPath.Parse(path);

        Assert.Equal(resource, parsed.Resource);
        Assert.Equal(name, parsed.Name);
        Assert.Equal(reference, parsed.Reference);
    }
}
