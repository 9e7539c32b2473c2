using NodeCache.Agent.Configuration;

namespace NodeCache.Agent.Tests.Configuration;

/// <summary>The peer flags: peering is on with --peer-listen, and the settings that must go together are checked at start.</summary>
public sealed class PeerSettingsTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void Without_peer_listen_peering_is_off_and_no_other_peer_setting_is_accepted()
    {
        Assert.Null(AgentSettings.Load([], NoEnvironment).PeerListen);

        var error = Assert.Throws<FormatException>(() => AgentSettings.Load(["--peers", "http://10.0.0.1:5051"], NoEnvironment));
        Assert.Contains("--peer-listen", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Static_peers_are_read_from_commas_and_repeats_and_the_peer_url_is_derived_from_the_listen_address()
    {
        var options = AgentSettings.Load(
            ["--peer-listen", "10.0.0.1:5051", "--peers", "http://10.0.0.1:5051,http://10.0.0.2:5051", "--peers", "HTTP://10.0.0.3:5051/", "--peer-token-file", "/run/secret"],
            NoEnvironment);

        Assert.Equal("http://10.0.0.1:5051", options.PeerUrl);
        Assert.Equal(["http://10.0.0.1:5051", "http://10.0.0.2:5051", "http://10.0.0.3:5051"], options.Peers);
    }

    [Fact]
    public void The_environment_gives_peers_separated_by_spaces_and_the_service_as_namespace_slash_name()
    {
        var environment = new Dictionary<string, string>
        {
            ["NODECACHE_PEER_LISTEN"] = "198.18.0.11:5051",
            ["NODECACHE_PEERS_SERVICE"] = "nodecache/nodecache-peers",
            ["NODECACHE_PEER_TOKEN_FILE"] = "/etc/nodecache/peer/token",
            ["NODECACHE_PEER_ZONE_LOCAL"] = "true",
        };

        var options = AgentSettings.Load([], name => environment.GetValueOrDefault(name));

        Assert.Equal("nodecache/nodecache-peers", options.PeersService);
        Assert.Equal("http://198.18.0.11:5051", options.PeerUrl);
        Assert.True(options.PeerZoneLocal);
    }

    [Theory]
    [InlineData("--peers http://10.0.0.1:5051", "--peer-token-file")]
    [InlineData("--peer-token-file /s", "either --peers or --peers-service")]
    [InlineData("--peer-token-file /s --peers http://10.0.0.1:5051 --peers-service ns/name", "either --peers or --peers-service")]
    [InlineData("--peer-token-file /s --peers http://10.0.0.2:5051", "own peer URL http://10.0.0.1:5051")]
    [InlineData("--peer-token-file /s --peers http://10.0.0.1:5051 --peer-tls-cert /c.pem", "go together")]
    [InlineData("--peer-token-file /s --peers https://10.0.0.1:5051 --peer-url https://10.0.0.1:5051", "must be http://")]
    [InlineData("--peer-token-file /s --peers http://10.0.0.1:5051/path", "no path")]
    [InlineData("--peer-token-file /s --peers-service nodecache", "NAMESPACE/NAME")]
    [InlineData("--peer-token-file /s --peers http://10.0.0.1:5051 --peer-uploads-per-blob 0", "from 1 to 256")]
    [InlineData("--peer-token-file /s --peers http://10.0.0.1:5051 --peer-uploads 300", "from 1 to 256")]
    public void Peer_settings_that_do_not_fit_together_fail_with_one_line_naming_the_setting(string flags, string expected)
    {
        string[] args = ["--peer-listen", "10.0.0.1:5051", .. flags.Split(' ')];

        var error = Assert.Throws<FormatException>(() => AgentSettings.Load(args, NoEnvironment));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_wildcard_peer_listen_address_needs_the_url_the_others_reach_this_agent_at()
    {
        var error = Assert.Throws<FormatException>(() => AgentSettings.Load(["--peer-listen", "0.0.0.0:5051", "--peer-token-file", "/s", "--peers-service", "ns/name"], NoEnvironment));
        Assert.Contains("--peer-url", error.Message, StringComparison.Ordinal);

        var options = AgentSettings.Load(["--peer-listen", "0.0.0.0:5051", "--peer-url", "http://10.0.0.1:5051", "--peer-token-file", "/s", "--peers-service", "ns/name"], NoEnvironment);
        Assert.Equal("http://10.0.0.1:5051", options.PeerUrl);
    }
}
