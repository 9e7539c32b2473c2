using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>The chart rendered once with <see cref="ChartValues.EveryOption"/>.</summary>
public sealed class EveryOptionRender : IAsyncLifetime
{
    private readonly TempFolder _folder = TempFolder.Create("chart-every-option");

    public RenderedChart Chart { get; private set; } = null!;

    public async Task InitializeAsync() => Chart = await RenderedChart.RenderAsync(ChartValues.Write(_folder, ChartValues.EveryOption));

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Each value of the chart lands where the agent and the kubelet read it, field by field.</summary>
public sealed class ChartEveryOptionTests(EveryOptionRender render) : IClassFixture<EveryOptionRender>
{
    private const string CredentialsFolder = "/etc/nodecache/credentials/harbor.example";

    private readonly RenderedChart _chart = render.Chart;

    [Fact]
    public void Each_upstream_becomes_one_upstream_entry_with_its_urls_in_order()
    {
        Assert.Equal(
            ["docker.io=https://harbor.example/dockerhub-proxy,https://harbor-dr.example/dockerhub-proxy", "_default=direct"],
            _chart.AgentConfig["upstream"].Texts);
    }

    [Fact]
    public void Harbor_credentials_are_the_existing_secret_mounted_as_a_folder_that_the_config_names_for_the_host()
    {
        Assert.Equal([$"harbor.example={CredentialsFolder}"], _chart.AgentConfig["credentials"].Texts);

        var mount = Mount("harbor-credentials");
        Assert.Equal(CredentialsFolder, mount["mountPath"].Text);
        Assert.Equal("true", mount["readOnly"].Text);

        var secret = Volume("harbor-credentials")["secret"];
        Assert.Equal("harbor-robot", secret["secretName"].Text);
        Assert.Equal(["username", "password"], secret["items"].Items.Select(i => i["key"].Text));
        Assert.Equal(["username", "password"], secret["items"].Items.Select(i => i["path"].Text));
    }

    [Fact]
    public void The_ca_bundle_secret_is_mounted_and_named_as_the_ca_file()
    {
        Assert.Equal("/etc/nodecache/ca/bundle.pem", _chart.AgentConfig["ca-file"].Text);
        Assert.Equal("/etc/nodecache/ca", Mount("ca-bundle")["mountPath"].Text);

        var secret = Volume("ca-bundle")["secret"];
        Assert.Equal("corporate-ca", secret["secretName"].Text);
        Assert.Equal("bundle.pem", Assert.Single(secret["items"].Items)["key"].Text);
    }

    [Fact]
    public void Listen_cache_and_timings_are_written_into_the_config()
    {
        var config = _chart.AgentConfig;

        Assert.Equal(["127.0.0.1:5051", "[::1]:5051"], config["listen"].Texts);
        Assert.Equal("/mnt/nvme/nodecache", config["cache-dir"].Text);
        Assert.Equal("80%", config["cache-size"].Text);
        Assert.Equal("ghcr.io", config["default-registry"].Text);
        Assert.Equal("500ms", config["connect-timeout"].Text);
        Assert.Equal("5m", config["tag-ttl"].Text);
        Assert.Equal("off", config["manifest-revalidate"].Text);
        Assert.Equal("1m", config["checkpoint-interval"].Text);
        Assert.Equal("Debug", config["log-level"].Text);
    }

    [Fact]
    public void The_agent_accepts_the_container_as_rendered_with_extra_args_and_env_winning_over_the_config()
    {
        using var folder = TempFolder.Create("chart-every-option-agent");

        var options = _chart.LoadAgentOptions(folder);

        Assert.Equal(["127.0.0.1:5051", "[::1]:5051"], options.Listen);
        Assert.Equal("/mnt/nvme/nodecache", options.CacheDir);
        Assert.Equal(80, options.CacheSize.Percent);
        Assert.Equal(["docker.io=https://harbor.example/dockerhub-proxy,https://harbor-dr.example/dockerhub-proxy", "_default=direct"], options.Upstreams);
        Assert.Equal([$"harbor.example={CredentialsFolder}"], options.Credentials);
        Assert.Equal("/etc/nodecache/ca/bundle.pem", options.CaFile);
        Assert.Equal("ghcr.io", options.DefaultRegistry);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMinutes(10), options.TagTtl);
        Assert.Equal(TimeSpan.FromMinutes(2), options.CheckpointInterval);
        Assert.Equal("Debug", options.LogLevel);
    }

    [Fact]
    public void Peering_uses_the_given_secret_and_port_zone_local_owners_and_tls_from_the_given_secret()
    {
        using var folder = TempFolder.Create("chart-every-option-peering");

        var options = _chart.LoadAgentOptions(folder);

        Assert.Equal($"{RenderedChart.NodeIp}:5061", options.PeerListen);
        Assert.Equal($"https://{RenderedChart.NodeIp}:5061", options.PeerUrl);
        Assert.True(options.PeerZoneLocal);
        Assert.Equal("/etc/nodecache/peer-tls/tls.crt", options.PeerTlsCert);
        Assert.Equal("/etc/nodecache/peer-tls/tls.key", options.PeerTlsKey);
        Assert.Equal("/etc/nodecache/peer-tls/ca.crt", options.PeerTlsCa);
        Assert.DoesNotContain(_chart.Manifests, m => m["kind"].Text == "Secret");
        Assert.Equal("cluster-peer-secret", Volume("peer-secret")["secret"]["secretName"].Text);
        var tls = Volume("peer-tls")["secret"];
        Assert.Equal("peer-tls", tls["secretName"].Text);
        Assert.Equal(["tls.crt", "tls.key", "ca.crt"], tls["items"].Items.Select(i => i["key"].Text));
        Assert.Equal("/etc/nodecache/peer-tls", Mount("peer-tls")["mountPath"].Text);
    }

    [Fact]
    public void Extra_args_follow_the_config_flag_and_extra_env_is_set()
    {
        Assert.Equal(["--config", RenderedChart.ConfigPath, "--tag-ttl", "10m"], _chart.AgentContainer["args"].Texts);
        var env = _chart.AgentContainer["env"].Items;
        Assert.Equal("NODECACHE_CHECKPOINT_INTERVAL", env[^1]["name"].Text);
        Assert.Equal("2m", env[^1]["value"].Text);
    }

    [Fact]
    public void The_cache_host_path_follows_cache_dir()
    {
        Assert.Equal("/mnt/nvme/nodecache", Volume("cache")["hostPath"]["path"].Text);
        Assert.Equal("DirectoryOrCreate", Volume("cache")["hostPath"]["type"].Text);
        Assert.Equal("/mnt/nvme/nodecache", Mount("cache")["mountPath"].Text);
    }

    [Fact]
    public void Probes_and_the_port_follow_the_first_listen_address()
    {
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
        {
            Assert.Equal("5051", _chart.AgentContainer[probe]["httpGet"]["port"].Text);
            Assert.Equal("127.0.0.1", _chart.AgentContainer[probe]["httpGet"]["host"].Text);
        }
        Assert.Equal("5051", _chart.AgentContainer["ports"].Items.Single(p => p["name"].Text == "http")["containerPort"].Text);
    }

    [Fact]
    public void Resources_are_the_values_as_given()
    {
        var resources = _chart.AgentContainer["resources"];

        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "100m", ["memory"] = "256Mi" }, resources["requests"].TextMap);
        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" }, resources["limits"].TextMap);
    }

    [Fact]
    public void Scheduling_follows_the_values_with_the_linux_node_selector_kept()
    {
        Assert.Equal(
            new Dictionary<string, string> { ["kubernetes.io/os"] = "linux", ["node-role.kubernetes.io/worker"] = "true" },
            _chart.PodSpec["nodeSelector"].TextMap);
        Assert.Equal("nodecache-critical", _chart.PodSpec["priorityClassName"].Text);
        Assert.Equal("dedicated", Assert.Single(_chart.PodSpec["tolerations"].Items)["key"].Text);
        Assert.Equal(
            ["amd64", "arm64"],
            _chart.PodSpec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"].Texts);
        Assert.Equal("Default", _chart.PodSpec["dnsPolicy"].Text);
        Assert.Equal("true", _chart.PodSpec["hostNetwork"].Text);
    }

    [Fact]
    public void Image_pull_secrets_and_service_account_follow_the_values()
    {
        Assert.Equal("registry.example/platform/nodecache-agent:0.2.0-rc.1", _chart.AgentContainer["image"].Text);
        Assert.Equal("Always", _chart.AgentContainer["imagePullPolicy"].Text);
        Assert.Equal("platform-pull", Assert.Single(_chart.PodSpec["imagePullSecrets"].Items)["name"].Text);

        var account = _chart.OfKind("ServiceAccount");
        Assert.Equal("nodecache-agent", account["metadata"]["name"].Text);
        Assert.Equal("platform", account["metadata"]["annotations"]["team"].Text);
        Assert.Equal("nodecache-agent", _chart.PodSpec["serviceAccountName"].Text);
    }

    [Fact]
    public void A_non_root_user_is_run_as_given_and_keeps_the_least_privilege_fields()
    {
        var security = _chart.AgentContainer["securityContext"];

        Assert.Equal("65532", security["runAsUser"].Text);
        Assert.Equal("65532", security["runAsGroup"].Text);
        Assert.Equal("true", security["runAsNonRoot"].Text);
        Assert.Equal("false", security["allowPrivilegeEscalation"].Text);
        Assert.Equal("true", security["readOnlyRootFilesystem"].Text);
        Assert.Equal(["ALL"], security["capabilities"]["drop"].Texts);
    }

    [Fact]
    public void Eviction_scrub_disk_reserve_and_shutdown_timeout_are_written_into_the_config()
    {
        var config = _chart.AgentConfig;

        Assert.Equal("95%", config["cache-high-watermark"].Text);
        Assert.Equal("70%", config["cache-low-watermark"].Text);
        Assert.Equal("30s", config["eviction-interval"].Text);
        Assert.Equal("16MiB", config["scrub-rate"].Text);
        Assert.Equal("12h", config["scrub-interval"].Text);
        Assert.Equal("1GiB", config["disk-reserve"].Text);
        Assert.Equal("40s", config["shutdown-timeout"].Text);
    }

    [Fact]
    public void Rolling_update_and_grace_period_follow_the_values()
    {
        Assert.Equal("10%", _chart.DaemonSet["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"].Text);
        Assert.Equal("45", _chart.PodSpec["terminationGracePeriodSeconds"].Text);
    }

    [Fact]
    public void Pod_annotations_labels_and_prometheus_scrape_annotations_are_added()
    {
        var metadata = _chart.DaemonSet["spec"]["template"]["metadata"];
        var annotations = metadata["annotations"].TextMap;

        Assert.Equal("platform", annotations["example.com/owner"]);
        Assert.Equal("true", annotations["prometheus.io/scrape"]);
        Assert.Equal("5051", annotations["prometheus.io/port"]);
        Assert.Equal("/metrics", annotations["prometheus.io/path"]);
        Assert.True(annotations.ContainsKey("checksum/config"));
        Assert.Equal("node", metadata["labels"]["example.com/tier"].Text);
    }

    [Fact]
    public async Task A_harbor_host_with_a_port_gets_a_credentials_folder_without_a_colon()
    {
        var chart = await RenderedChart.RenderAsync(null, "harbor.host=harbor.example:8443", "harbor.existingSecret=harbor-robot");

        Assert.Equal(["harbor.example:8443=/etc/nodecache/credentials/harbor.example_8443"], chart.AgentConfig["credentials"].Texts);
        Assert.Equal(
            "/etc/nodecache/credentials/harbor.example_8443",
            chart.AgentContainer["volumeMounts"].Items.Single(m => m["name"].Text == "harbor-credentials")["mountPath"].Text);
    }

    [Fact]
    public async Task A_ca_bundle_config_map_is_mounted_like_a_secret()
    {
        var chart = await RenderedChart.RenderAsync(null, "caBundle.existingConfigMap=corporate-ca");

        Assert.Equal("/etc/nodecache/ca/ca.crt", chart.AgentConfig["ca-file"].Text);
        var volume = chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == "ca-bundle");
        Assert.Equal("corporate-ca", volume["configMap"]["name"].Text);
        Assert.Equal("ca.crt", Assert.Single(volume["configMap"]["items"].Items)["path"].Text);
    }

    [Fact]
    public async Task A_wildcard_listen_address_is_probed_on_loopback()
    {
        var chart = await RenderedChart.RenderAsync(null, "listen={0.0.0.0:6000}");

        Assert.Equal("127.0.0.1", chart.AgentContainer["readinessProbe"]["httpGet"]["host"].Text);
        Assert.Equal("6000", chart.AgentContainer["readinessProbe"]["httpGet"]["port"].Text);
    }

    private YamlNode Volume(string name) => _chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == name);

    private YamlNode Mount(string name) => _chart.AgentContainer["volumeMounts"].Items.Single(m => m["name"].Text == name);
}
