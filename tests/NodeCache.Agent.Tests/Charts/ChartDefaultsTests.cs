using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>The chart rendered once with its own values.yaml (<c>helm template</c>, real helm).</summary>
public sealed class DefaultRender : IAsyncLifetime
{
    public RenderedChart Chart { get; private set; } = null!;

    public async Task InitializeAsync() => Chart = await RenderedChart.RenderAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>What <c>helm install nodecache charts/nodecache</c> with no values puts on the cluster, field by field.</summary>
public sealed class ChartDefaultsTests(DefaultRender render) : IClassFixture<DefaultRender>
{
    private readonly RenderedChart _chart = render.Chart;

    [Fact]
    public void It_renders_the_daemonset_its_configmap_serviceaccount_rbac_and_the_crd_and_nothing_else()
    {
        Assert.Equal(
            ["ClusterRole", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "CustomResourceDefinition", "DaemonSet", "ServiceAccount"],
            _chart.Manifests.Select(m => m["kind"].Text).Order());
        Assert.Equal("apps/v1", _chart.DaemonSet["apiVersion"].Text);
        var namespaced = _chart.Manifests.Where(m => m["kind"].Text is not ("ClusterRole" or "ClusterRoleBinding" or "CustomResourceDefinition")).ToList();
        Assert.All(namespaced, m => Assert.Equal(RenderedChart.Namespace, m["metadata"]["namespace"].Text));
        Assert.All(namespaced, m => Assert.Equal("nodecache", m["metadata"]["name"].Text));
        Assert.False(_chart.AgentClusterRole["metadata"].Has("namespace"));
    }

    [Fact]
    public void Every_resource_carries_the_recommended_labels_and_the_pods_are_selected_by_the_stable_ones()
    {
        foreach (var manifest in _chart.Manifests)
        {
            var labels = manifest["metadata"]["labels"].TextMap;
            Assert.Equal("nodecache", labels["app.kubernetes.io/name"]);
            Assert.Equal(RenderedChart.ReleaseName, labels["app.kubernetes.io/instance"]);
            Assert.Equal("agent", labels["app.kubernetes.io/component"]);
            Assert.Equal("0.1.0", labels["app.kubernetes.io/version"]);
            Assert.Equal("nodecache", labels["app.kubernetes.io/part-of"]);
            Assert.Equal("Helm", labels["app.kubernetes.io/managed-by"]);
            Assert.Equal("nodecache-0.1.0", labels["helm.sh/chart"]);
        }
        var selector = _chart.DaemonSet["spec"]["selector"]["matchLabels"].TextMap;
        Assert.Equal(["app.kubernetes.io/component", "app.kubernetes.io/instance", "app.kubernetes.io/name"], selector.Keys.Order());
        var podLabels = _chart.DaemonSet["spec"]["template"]["metadata"]["labels"].TextMap;
        Assert.All(selector, label => Assert.Equal(label.Value, podLabels[label.Key]));
    }

    [Fact]
    public void The_pod_uses_the_host_network_and_resolves_through_cluster_dns()
    {
        Assert.Equal("true", _chart.PodSpec["hostNetwork"].Text);
        Assert.Equal("ClusterFirstWithHostNet", _chart.PodSpec["dnsPolicy"].Text);
    }

    [Fact]
    public void It_runs_as_system_node_critical_on_every_node_whatever_its_taints()
    {
        Assert.Equal("system-node-critical", _chart.PodSpec["priorityClassName"].Text);
        var toleration = Assert.Single(_chart.PodSpec["tolerations"].Items);
        Assert.Equal(new Dictionary<string, string> { ["operator"] = "Exists" }, toleration.TextMap);
        Assert.Equal(new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" }, _chart.PodSpec["nodeSelector"].TextMap);
        Assert.False(_chart.PodSpec.Has("affinity"));
    }

    [Fact]
    public void The_image_is_the_agent_at_the_app_version_pulled_if_not_present()
    {
        Assert.Equal("ghcr.io/nodecache/nodecache-agent:0.1.0", _chart.AgentContainer["image"].Text);
        Assert.Equal("IfNotPresent", _chart.AgentContainer["imagePullPolicy"].Text);
        Assert.False(_chart.PodSpec.Has("imagePullSecrets"));
    }

    [Fact]
    public void The_agent_is_started_with_the_mounted_config_and_its_node_and_prefetch_settings_in_the_environment()
    {
        Assert.Equal(["--config", RenderedChart.ConfigPath], _chart.AgentContainer["args"].Texts);
        Assert.False(_chart.AgentContainer.Has("command"));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["NODECACHE_NODE_NAME"] = RenderedChart.NodeName,
                ["NODECACHE_CONTROL_SOCKET"] = "/run/nodecache/control.sock",
                ["NODECACHE_PREFETCH_CONCURRENCY"] = "2",
                ["NODECACHE_PULL_SECRETS"] = "false",
                ["NODECACHE_PRIVATE_IMAGES"] = "verify",
            },
            _chart.AgentEnvironment());
        var nodeName = _chart.AgentContainer["env"].Items.Single(e => e["name"].Text == "NODECACHE_NODE_NAME");
        Assert.Equal("spec.nodeName", nodeName["valueFrom"]["fieldRef"]["fieldPath"].Text);

        var mount = _chart.AgentContainer["volumeMounts"].Items.Single(m => m["name"].Text == "config");
        Assert.Equal("/etc/nodecache/config", mount["mountPath"].Text);
        Assert.Equal("true", mount["readOnly"].Text);
        var volume = Volume("config");
        Assert.Equal(_chart.ConfigMap["metadata"]["name"].Text, volume["configMap"]["name"].Text);
    }

    [Fact]
    public void The_config_listens_on_loopback_5050_and_caches_20GiB_in_the_host_path()
    {
        var config = _chart.AgentConfig;

        Assert.Equal(["127.0.0.1:5050"], config["listen"].Texts);
        Assert.Equal("/var/cache/nodecache", config["cache-dir"].Text);
        Assert.Equal("20GiB", config["cache-size"].Text);
        Assert.Equal("docker.io", config["default-registry"].Text);
        Assert.False(config.Has("upstream"));
        Assert.False(config.Has("credentials"));
        Assert.False(config.Has("ca-file"));
    }

    [Fact]
    public void The_agent_reads_the_rendered_config_as_a_mirror_of_every_registry_with_its_own_defaults()
    {
        using var folder = TempFolder.Create("chart-defaults");

        var options = _chart.LoadAgentOptions(folder);

        Assert.Equal(["127.0.0.1:5050"], options.Listen);
        Assert.Equal("/var/cache/nodecache", options.CacheDir);
        Assert.Equal(20L << 30, options.CacheSize.Bytes);
        Assert.Empty(options.Upstreams);
        Assert.Empty(options.Credentials);
        Assert.Null(options.CaFile);
        Assert.Equal("docker.io", options.DefaultRegistry);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), options.TagTtl);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CheckpointInterval);
        Assert.Equal("Information", options.LogLevel);
    }

    [Fact]
    public void The_cache_is_a_host_path_created_when_missing_and_mounted_at_the_same_path()
    {
        var hostPath = Volume("cache")["hostPath"];
        Assert.Equal("/var/cache/nodecache", hostPath["path"].Text);
        Assert.Equal("DirectoryOrCreate", hostPath["type"].Text);
        Assert.Equal("/var/cache/nodecache", Mount("cache")["mountPath"].Text);
        Assert.False(Mount("cache").Has("readOnly"));
    }

    [Fact]
    public void Tmp_is_an_empty_dir_because_the_root_filesystem_is_read_only()
    {
        Assert.True(Volume("tmp").Has("emptyDir"));
        Assert.Equal("/tmp", Mount("tmp")["mountPath"].Text);
    }

    [Fact]
    public void No_credentials_or_ca_bundle_are_mounted()
    {
        Assert.Equal(["cache", "config", "containerd-hosts", "control", "tmp"], _chart.PodSpec["volumes"].Items.Select(v => v["name"].Text).Order());
        Assert.Equal(["cache", "config", "control", "tmp"], _chart.AgentContainer["volumeMounts"].Items.Select(v => v["name"].Text).Order());
    }

    [Fact]
    public void Probes_ask_readyz_and_healthz_on_the_listen_port_over_the_nodes_loopback()
    {
        var readiness = _chart.AgentContainer["readinessProbe"]["httpGet"];
        Assert.Equal("/readyz", readiness["path"].Text);
        Assert.Equal("5050", readiness["port"].Text);
        Assert.Equal("127.0.0.1", readiness["host"].Text);

        var liveness = _chart.AgentContainer["livenessProbe"]["httpGet"];
        Assert.Equal("/healthz", liveness["path"].Text);
        Assert.Equal("5050", liveness["port"].Text);
        Assert.Equal("127.0.0.1", liveness["host"].Text);

        var startup = _chart.AgentContainer["startupProbe"]["httpGet"];
        Assert.Equal("/healthz", startup["path"].Text);
        Assert.Equal("5050", startup["port"].Text);
        Assert.Equal("127.0.0.1", startup["host"].Text);

        var port = Assert.Single(_chart.AgentContainer["ports"].Items);
        Assert.Equal("5050", port["containerPort"].Text);
        Assert.Equal("TCP", port["protocol"].Text);
    }

    [Fact]
    public void A_slow_cache_index_recovery_gets_minutes_before_liveness_applies()
    {
        var startup = _chart.AgentContainer["startupProbe"];

        var seconds = int.Parse(startup["periodSeconds"].Text) * int.Parse(startup["failureThreshold"].Text);
        Assert.True(seconds >= 300, $"the startup probe gives up after {seconds}s");
    }

    [Fact]
    public void The_container_runs_with_least_privilege()
    {
        var security = _chart.AgentContainer["securityContext"];

        Assert.Equal("false", security["allowPrivilegeEscalation"].Text);
        Assert.Equal("true", security["readOnlyRootFilesystem"].Text);
        Assert.Equal(["ALL"], security["capabilities"]["drop"].Texts);
        Assert.False(security["capabilities"].Has("add"));
        Assert.Equal("RuntimeDefault", security["seccompProfile"]["type"].Text);
        Assert.Equal("RuntimeDefault", _chart.PodSpec["securityContext"]["seccompProfile"]["type"].Text);
        Assert.False(security.Has("privileged"));
    }

    [Fact]
    public void By_default_it_runs_as_uid_0_because_kubelet_creates_the_host_path_owned_by_root()
    {
        var security = _chart.AgentContainer["securityContext"];

        Assert.Equal("0", security["runAsUser"].Text);
        Assert.Equal("0", security["runAsGroup"].Text);
        Assert.Equal("false", security["runAsNonRoot"].Text);
    }

    [Fact]
    public void The_service_account_token_is_mounted_because_the_agent_watches_pods_and_image_prewarms()
    {
        var account = _chart.OfKind("ServiceAccount");
        Assert.Equal("true", account["automountServiceAccountToken"].Text);
        Assert.Equal(account["metadata"]["name"].Text, _chart.PodSpec["serviceAccountName"].Text);
        Assert.Equal("true", _chart.PodSpec["automountServiceAccountToken"].Text);
    }

    [Fact]
    public void Requests_are_small_and_memory_is_limited()
    {
        var resources = _chart.AgentContainer["resources"];

        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "50m", ["memory"] = "128Mi" }, resources["requests"].TextMap);
        Assert.Equal(new Dictionary<string, string> { ["memory"] = "512Mi" }, resources["limits"].TextMap);
    }

    [Fact]
    public void Upgrades_roll_one_node_at_a_time_with_thirty_seconds_to_stop()
    {
        var strategy = _chart.DaemonSet["spec"]["updateStrategy"];

        Assert.Equal("RollingUpdate", strategy["type"].Text);
        Assert.Equal("1", strategy["rollingUpdate"]["maxUnavailable"].Text);
        Assert.Equal("30", _chart.PodSpec["terminationGracePeriodSeconds"].Text);
    }

    [Fact]
    public void The_pods_carry_a_checksum_of_the_config_and_no_scrape_annotations()
    {
        var annotations = _chart.DaemonSet["spec"]["template"]["metadata"]["annotations"].TextMap;

        Assert.Matches("^[0-9a-f]{64}$", annotations["checksum/config"]);
        Assert.DoesNotContain(annotations.Keys, key => key.StartsWith("prometheus.io/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_config_change_changes_the_checksum_so_the_pods_roll()
    {
        var changed = await RenderedChart.RenderAsync(null, "cacheSize=30GiB");
        var unchanged = await RenderedChart.RenderAsync(null, "podAnnotations.note=same-config");

        Assert.NotEqual(Checksum(_chart), Checksum(changed));
        Assert.Equal(Checksum(_chart), Checksum(unchanged));
    }

    [Fact]
    public async Task Clusters_older_than_kubernetes_1_25_are_refused()
    {
        var run = await Helm.RunAsync("template", RenderedChart.ReleaseName, Helm.Chart("nodecache"), "--kube-version", "1.24.9");

        Assert.False(run.Succeeded);
        Assert.Contains("kubeVersion", run.Stderr, StringComparison.Ordinal);
        Assert.True((await Helm.RunAsync("template", RenderedChart.ReleaseName, Helm.Chart("nodecache"), "--kube-version", "1.25.0")).Succeeded);
    }

    private static string Checksum(RenderedChart chart) => chart.DaemonSet["spec"]["template"]["metadata"]["annotations"]["checksum/config"].Text;

    private YamlNode Volume(string name) => _chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == name);

    private YamlNode Mount(string name) => _chart.AgentContainer["volumeMounts"].Items.Single(m => m["name"].Text == name);
}
