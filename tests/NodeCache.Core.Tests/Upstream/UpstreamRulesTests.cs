using NodeCache.Upstream;

namespace NodeCache.Core.Tests.Upstream;

public sealed class UpstreamRulesTests
{
    [Fact]
    public void A_url_path_is_the_endpoint_path_prefix()
    {
        var rules = UpstreamRules.Parse(["docker.io=https://harbor.example/dockerhub-proxy"]);

        Assert.True(rules.TryResolve("docker.io", out var route));
        var endpoint = Assert.Single(route.Endpoints);
        Assert.Equal(new Uri("https://harbor.example/"), endpoint.BaseUri);
        Assert.Equal("dockerhub-proxy", endpoint.PathPrefix);
    }

    [Fact]
    public void A_url_without_path_has_no_prefix_and_keeps_its_port()
    {
        var rules = UpstreamRules.Parse(["ghcr.io=http://mirror.internal:5000/"]);

        Assert.True(rules.TryResolve("ghcr.io", out var route));
        Assert.Equal(new UpstreamEndpoint(new Uri("http://mirror.internal:5000/"), null), Assert.Single(route.Endpoints));
    }

    [Fact]
    public void Several_urls_are_endpoints_in_the_order_given()
    {
        var rules = UpstreamRules.Parse(["docker.io=https://harbor-a.example/hub, https://harbor-b.example/hub/nested,direct"]);

        Assert.True(rules.TryResolve("docker.io", out var route));
        Assert.Equal(
            [
                new UpstreamEndpoint(new Uri("https://harbor-a.example/"), "hub"),
                new UpstreamEndpoint(new Uri("https://harbor-b.example/"), "hub/nested"),
                new UpstreamEndpoint(new Uri("https://registry-1.docker.io/"), null),
            ],
            route.Endpoints);
    }

    [Fact]
    public void Default_rule_matches_registries_without_a_rule_of_their_own()
    {
        var rules = UpstreamRules.Parse(["docker.io=https://harbor.example/hub", "_default=https://harbor.example/other"]);

        Assert.True(rules.TryResolve("quay.io", out var quay));
        Assert.Equal("quay.io", quay.Registry);
        Assert.Equal("other", Assert.Single(quay.Endpoints).PathPrefix);
        Assert.True(rules.TryResolve("docker.io", out var docker));
        Assert.Equal("hub", Assert.Single(docker.Endpoints).PathPrefix);
    }

    [Fact]
    public void A_registry_without_a_rule_is_not_resolved_when_there_is_no_default()
    {
        var rules = UpstreamRules.Parse(["docker.io=https://harbor.example/hub"]);

        Assert.False(rules.TryResolve("quay.io", out _));
    }

    [Theory]
    [InlineData("docker.io", "https://registry-1.docker.io/")]
    [InlineData("quay.io", "https://quay.io/")]
    [InlineData("registry.internal:5000", "https://registry.internal:5000/")]
    public void Direct_means_the_registry_itself_and_docker_io_means_registry_1(string registry, string expected)
    {
        Assert.True(UpstreamRules.Direct.TryResolve(registry, out var route));

        Assert.Equal(new UpstreamEndpoint(new Uri(expected), null), Assert.Single(route.Endpoints));
    }

    [Fact]
    public void Direct_under_default_names_each_registry_itself()
    {
        var rules = UpstreamRules.Parse(["_default=https://harbor.example/all,direct"]);

        Assert.True(rules.TryResolve("gcr.io", out var route));
        Assert.Equal(new Uri("https://gcr.io/"), route.Endpoints[1].BaseUri);
    }

    [Fact]
    public void Registry_names_match_regardless_of_case()
    {
        var rules = UpstreamRules.Parse(["Docker.IO=https://harbor.example/hub"]);

        Assert.True(rules.TryResolve("docker.io", out var route));
        Assert.Equal("docker.io", route.Registry);
        Assert.True(rules.TryResolve("DOCKER.io", out _));
    }

    [Theory]
    [InlineData("evil.example/path")]
    [InlineData("user@evil.example")]
    [InlineData("evil.example?x=1")]
    [InlineData("evil.example:99999")]
    [InlineData("")]
    public void Names_that_are_not_a_host_and_port_are_not_resolved_even_by_direct(string registry)
    {
        Assert.False(UpstreamRules.Direct.TryResolve(registry, out _));
    }

    [Fact]
    public void Registries_lists_the_rules_in_order_for_startup_logs()
    {
        var rules = UpstreamRules.Parse(["docker.io=direct", "_default=https://harbor.example/x", "ghcr.io=direct"]);

        Assert.Equal(["docker.io", "_default", "ghcr.io"], rules.Registries);
    }

    [Theory]
    [InlineData("docker.io", "expected NS=URL[,URL...]")]
    [InlineData("=https://harbor.example", "expected NS=URL[,URL...]")]
    [InlineData("docker.io=", "expected NS=URL[,URL...]")]
    [InlineData("docker.io=https://a.example,,direct", "expected NS=URL[,URL...]")]
    [InlineData("docker.io=ftp://harbor.example", "is not an http(s) URL")]
    [InlineData("docker.io=harbor.example/hub", "is not an http(s) URL")]
    [InlineData("docker.io=https://harbor.example/hub?x=1", "query or fragment")]
    [InlineData("docker.io=https://harbor.example/Hub", "not a valid project")]
    [InlineData("bad/name=direct", "is not a registry host")]
    public void Bad_specs_fail_with_a_one_line_message_naming_the_spec(string spec, string problem)
    {
        var error = Assert.Throws<FormatException>(() => UpstreamRules.Parse([spec]));

        Assert.StartsWith($"--upstream '{spec}': ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_second_rule_for_the_same_registry_is_refused()
    {
        var error = Assert.Throws<FormatException>(() => UpstreamRules.Parse(["docker.io=direct", "docker.io=https://harbor.example/hub"]));

        Assert.Contains("'docker.io' already has a rule", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_url_with_credentials_is_refused_without_repeating_them()
    {
        var error = Assert.Throws<FormatException>(() => UpstreamRules.Parse(["docker.io=https://robot:s3cret@harbor.example/hub"]));

        Assert.Contains("docker.io", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }
}
