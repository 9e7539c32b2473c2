using System.Text;
using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class DockerConfigCredentialsTests
{
    private static DockerConfigCredentials From(params string[] documents)
    {
        var credentials = new DockerConfigCredentials();
        foreach (var document in documents)
        {
            Assert.True(credentials.Add(Encoding.UTF8.GetBytes(document)));
        }
        return credentials;
    }

    [Fact]
    public void Username_and_password_or_auth_are_read_and_matched_by_registry_host()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("robot:s3cret:with-colon"));
        var credentials = From("""{"auths":{"harbor.example":{"username":"alice","password":"pw"},"https://quay.example/v1/":{"auth":"AUTH"}}}""".Replace("AUTH", auth, StringComparison.Ordinal));

        Assert.Equal([new RegistryCredential("alice", "pw")], credentials.Match("harbor.example", "team/app"));
        Assert.Equal([new RegistryCredential("robot", "s3cret:with-colon")], credentials.Match("quay.example", "x/y"));
        Assert.Empty(credentials.Match("other.example", "team/app"));
    }

    [Fact]
    public void Ports_must_agree_globs_match_one_label_and_a_path_key_wins_for_its_repositories()
    {
        var credentials = From(
            """{"auths":{"*.example.com":{"username":"glob","password":"1"},"harbor.example.com:5000":{"username":"port","password":"2"}}}""",
            """{"auths":{"harbor.example.com/team":{"username":"team","password":"3"}}}""");

        Assert.Equal(["team", "glob"], credentials.Match("harbor.example.com", "team/app").Select(c => c.Username));
        Assert.Equal(["glob"], credentials.Match("harbor.example.com", "other/app").Select(c => c.Username));
        Assert.Equal(["port"], credentials.Match("harbor.example.com:5000", "other/app").Select(c => c.Username));
        Assert.Empty(credentials.Match("a.b.example.com", "x"));
    }

    [Fact]
    public void A_document_that_is_not_a_docker_config_adds_nothing()
    {
        var credentials = new DockerConfigCredentials();
        Assert.False(credentials.Add("not json"u8));
        Assert.False(credentials.Add("""{"registry":"x"}"""u8));
        Assert.Equal(0, credentials.Count);
    }
}
