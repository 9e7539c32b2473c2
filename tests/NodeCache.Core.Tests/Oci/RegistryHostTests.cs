using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class RegistryHostTests
{
    [Theory]
    [InlineData("docker.io")]
    [InlineData("harbor.test")]
    [InlineData("127.0.0.1:5000")]
    [InlineData("registry-1.docker.io")]
    [InlineData("[::1]:5000")]
    [InlineData("[::1]")]
    [InlineData("localhost")]
    public void Hosts_as_image_references_name_them_are_valid(string host)
    {
        Assert.True(RegistryHost.IsValid(host));
    }

    [Theory]
    [InlineData("")]
    [InlineData("evil.example/path")]
    [InlineData("user@host")]
    [InlineData("host:0")]
    [InlineData("host:99999")]
    [InlineData("host:")]
    [InlineData("-host")]
    [InlineData("a..b")]
    [InlineData("[::1")]
    [InlineData("host?x=1")]
    [InlineData("host#frag")]
    public void Anything_that_could_change_the_upstream_url_is_invalid(string host)
    {
        Assert.False(RegistryHost.IsValid(host));
    }
}
