using NodeCache.Agent.Configuration;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Configuration;

public sealed class AgentSettingsTests : IDisposable
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;
    private readonly TempFolder _folder = TempFolder.Create("settings");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void With_no_flags_the_agent_is_a_mirror_on_loopback_5050_caching_in_the_user_cache_folder()
    {
        var options = AgentSettings.Load([], NoEnvironment);

        Assert.Equal(["127.0.0.1:5050"], options.Listen);
        Assert.Empty(options.Upstreams);
        Assert.EndsWith(Path.Combine(".cache", "nodecache"), options.CacheDir, StringComparison.Ordinal);
        Assert.Equal("docker.io", options.DefaultRegistry);
    }

    [Fact]
    public void Repeatable_flags_accumulate_in_order()
    {
        var options = AgentSettings.Load(
            ["--listen", "127.0.0.1:5050", "--listen=[::1]:5050", "--upstream", "docker.io=https://harbor.example/dockerhub-proxy", "--upstream", "quay.io=https://a.example,https://b.example"],
            NoEnvironment);

        Assert.Equal(["127.0.0.1:5050", "[::1]:5050"], options.Listen);
        Assert.Equal(["docker.io=https://harbor.example/dockerhub-proxy", "quay.io=https://a.example,https://b.example"], options.Upstreams);
    }

    [Fact]
    public void Flags_override_the_environment_which_overrides_the_config_file()
    {
        var config = _folder.Combine("agent.yaml");
        File.WriteAllText(config, "cache-dir: /from/file\ncacheSize: 10GiB\ntag-ttl: 5m\nupstream:\n  - docker.io=https://harbor.example/proxy\n");
        var environment = new Dictionary<string, string> { ["NODECACHE_CACHE_SIZE"] = "80%", ["NODECACHE_TAG_TTL"] = "30s" };

        var options = AgentSettings.Load(["--config", config, "--tag-ttl", "10s"], name => environment.GetValueOrDefault(name));

        Assert.Equal("/from/file", options.CacheDir);
        Assert.Equal(80, options.CacheSize.Percent);
        Assert.Equal(TimeSpan.FromSeconds(10), options.TagTtl);
        Assert.Equal(["docker.io=https://harbor.example/proxy"], options.Upstreams);
    }

    [Fact]
    public void A_json_config_file_is_read_with_the_same_keys()
    {
        var config = _folder.Combine("agent.json");
        File.WriteAllText(config, """{"listen": ["127.0.0.1:6000"], "cache-dir": "/from/json", "upstream": ["harbor.test=http://127.0.0.1:5000"]}""");

        var options = AgentSettings.Load(["--config", config], NoEnvironment);

        Assert.Equal(["127.0.0.1:6000"], options.Listen);
        Assert.Equal("/from/json", options.CacheDir);
        Assert.Equal(["harbor.test=http://127.0.0.1:5000"], options.Upstreams);
    }

    [Fact]
    public void A_relative_cache_folder_and_control_socket_are_taken_from_the_folder_the_agent_starts_in()
    {
        var options = AgentSettings.Load(["--cache-dir", "./cache", "--control-socket", "run/control.sock"], NoEnvironment);

        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "cache"), options.CacheDir);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "run", "control.sock"), options.ControlSocket);
    }

    [Fact]
    public void Environment_lists_split_on_spaces_and_semicolons()
    {
        var options = AgentSettings.Load([], name => name == "NODECACHE_UPSTREAM" ? "docker.io=https://a.example,https://b.example; ghcr.io=direct" : null);

        Assert.Equal(["docker.io=https://a.example,https://b.example", "ghcr.io=direct"], options.Upstreams);
    }

    [Theory]
    [InlineData(new[] { "--bogus", "1" }, "unknown option --bogus")]
    [InlineData(new[] { "--cache-dir" }, "--cache-dir needs a value")]
    [InlineData(new[] { "--cache-size", "lots" }, "--cache-size: cache size 'lots'")]
    [InlineData(new[] { "--cache-size", "120%" }, "between 0% and 100%")]
    [InlineData(new[] { "--listen", "nowhere" }, "--listen: 'nowhere' is not HOST:PORT")]
    [InlineData(new[] { "--upstream", "no-equals-sign" }, "--upstream")]
    [InlineData(new[] { "--tag-ttl", "soon" }, "tag-ttl 'soon'")]
    [InlineData(new[] { "--cache-dir", "a", "--cache-dir", "b" }, "--cache-dir is given twice")]
    [InlineData(new[] { "--log-level", "loud" }, "not a log level")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray'")]
    public void Mistakes_are_one_line_naming_the_setting(string[] args, string expected)
    {
        var error = Assert.Throws<FormatException>(() => AgentSettings.Load(args, NoEnvironment));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_config_file_with_an_unknown_key_is_refused()
    {
        var config = _folder.Combine("bad.yaml");
        File.WriteAllText(config, "cache-dri: /typo\n");

        var error = Assert.Throws<FormatException>(() => AgentSettings.Load(["--config", config], NoEnvironment));

        Assert.Contains("unknown key 'cache-dri'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_config_file_is_a_clear_error()
    {
        var error = Assert.Throws<FormatException>(() => AgentSettings.Load(["--config", _folder.Combine("absent.yaml")], NoEnvironment));

        Assert.StartsWith("--config '", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_lists_every_option()
    {
        foreach (var option in new[] { "--listen", "--cache-dir", "--cache-size", "--upstream", "--credentials", "--config", "--tag-ttl", "--ca-file" })
        {
            Assert.Contains(option, AgentSettings.Usage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null, 300.0)]
    [InlineData("30s", 30.0)]
    [InlineData("0", 0.0)]
    [InlineData("off", null)]
    public void Manifest_revalidation_defaults_to_five_minutes_and_takes_a_duration_zero_or_off(string? value, double? seconds)
    {
        var options = AgentSettings.Load(value is null ? [] : ["--manifest-revalidate", value], NoEnvironment);

        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, options.ManifestRevalidate);
    }

    [Fact]
    public void Prefetch_is_off_by_default_with_verify_for_private_images_and_pull_secrets_unread()
    {
        var options = AgentSettings.Load([], NoEnvironment);

        Assert.Null(options.NodeName);
        Assert.Null(options.Kubeconfig);
        Assert.Equal(2, options.PrefetchConcurrency);
        Assert.Null(options.PrefetchBandwidth);
        Assert.False(options.PullSecrets);
        Assert.Equal(NodeCache.Access.PrivateImageMode.Verify, options.PrivateImages);
    }

    [Fact]
    public void Prefetch_settings_read_from_flags_and_environment()
    {
        var environment = new Dictionary<string, string> { ["NODECACHE_NODE_NAME"] = "node-7", ["NODECACHE_PULL_SECRETS"] = "true" };
        var options = AgentSettings.Load(
            ["--kubeconfig", "/etc/kube/config", "--prefetch-concurrency", "4", "--prefetch-bandwidth", "50MiB/s", "--private-images", "passthrough"],
            name => environment.GetValueOrDefault(name));

        Assert.Equal("node-7", options.NodeName);
        Assert.Equal("/etc/kube/config", options.Kubeconfig);
        Assert.Equal(4, options.PrefetchConcurrency);
        Assert.Equal(50L * 1024 * 1024, options.PrefetchBandwidth);
        Assert.True(options.PullSecrets);
        Assert.Equal(NodeCache.Access.PrivateImageMode.Passthrough, options.PrivateImages);
    }

    [Theory]
    [InlineData("--prefetch-concurrency", "0", "--prefetch-concurrency")]
    [InlineData("--prefetch-bandwidth", "fast", "--prefetch-bandwidth")]
    [InlineData("--prefetch-bandwidth", "50%", "--prefetch-bandwidth")]
    [InlineData("--pull-secrets", "maybe", "--pull-secrets")]
    [InlineData("--private-images", "open", "--private-images")]
    public void Bad_prefetch_values_name_their_flag(string flag, string value, string named)
    {
        var error = Assert.Throws<FormatException>(() => AgentSettings.Load([flag, value], NoEnvironment));
        Assert.StartsWith(named, error.Message, StringComparison.Ordinal);
    }
}
