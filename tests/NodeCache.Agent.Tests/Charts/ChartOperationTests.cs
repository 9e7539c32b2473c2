using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>The operating side of the chart with its defaults: the hosts.toml sidecar, the control socket, RBAC and the CRD.</summary>
public sealed class ChartOperationDefaultsTests(DefaultRender render) : IClassFixture<DefaultRender>
{
    private readonly RenderedChart _chart = render.Chart;

    private YamlNode Sidecar => _chart.PodSpec["containers"].Items.Single(c => c["name"].Text == "containerd-hosts");

    [Fact]
    public void A_sidecar_writes_hosts_toml_for_every_registry_with_the_agent_first_until_the_pod_stops()
    {
        Assert.Equal(
            ["nodecache", "containerd", "hosts", "--until-stopped", "--mirror", "http://127.0.0.1:5050", "--dir", "/etc/containerd/certs.d", "--registry", "_default"],
            Sidecar["command"].Texts);
        Assert.Equal(_chart.AgentContainer["image"].Text, Sidecar["image"].Text);
        var mount = Sidecar["volumeMounts"].Items.Single(m => m["name"].Text == "containerd-hosts");
        Assert.Equal("/etc/containerd/certs.d", mount["mountPath"].Text);
        var hostPath = _chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == "containerd-hosts")["hostPath"];
        Assert.Equal("/etc/containerd/certs.d", hostPath["path"].Text);
        Assert.Equal("DirectoryOrCreate", hostPath["type"].Text);
    }

    [Fact]
    public void Only_the_sidecar_can_write_containerds_configuration_and_it_has_no_capabilities()
    {
        Assert.DoesNotContain(_chart.AgentContainer["volumeMounts"].Items, m => m["name"].Text == "containerd-hosts");
        var security = Sidecar["securityContext"];
        Assert.Equal("0", security["runAsUser"].Text);
        Assert.Equal("false", security["allowPrivilegeEscalation"].Text);
        Assert.Equal("true", security["readOnlyRootFilesystem"].Text);
        Assert.Equal(["ALL"], security["capabilities"]["drop"].Texts);
        Assert.Equal("RuntimeDefault", security["seccompProfile"]["type"].Text);
        Assert.Equal(new Dictionary<string, string> { ["memory"] = "96Mi" }, Sidecar["resources"]["limits"].TextMap);
    }

    [Fact]
    public async Task The_real_cli_accepts_the_sidecars_command_and_writes_the_files()
    {
        using var folder = TempFolder.Create("chart-sidecar");
        var arguments = Sidecar["command"].Texts.Skip(1).Where(a => a != "--until-stopped").Select(a => a == "/etc/containerd/certs.d" ? folder.Path : a).ToArray();

        var run = await NodeCacheCli.RunAsync(arguments);

        Assert.Equal(0, run.ExitCode);
        Assert.True(File.Exists(Path.Combine(folder.Path, "_default", "hosts.toml")));
    }

    [Fact]
    public async Task With_upstreams_the_sidecar_writes_each_upstream_registry()
    {
        var chart = await RenderedChart.RenderAsync(null, "upstreams[0].registry=docker.io", "upstreams[0].urls[0]=https://harbor.example/dockerhub-proxy", "upstreams[1].registry=ghcr.io", "upstreams[1].urls[0]=direct");

        var command = chart.PodSpec["containers"].Items.Single(c => c["name"].Text == "containerd-hosts")["command"].Texts;

        Assert.Equal(["--registry", "docker.io", "--registry", "ghcr.io"], command.SkipWhile(a => a != "--registry"));
    }

    [Fact]
    public async Task Without_containerd_hosts_there_is_no_sidecar_and_no_host_path_to_containerds_folder()
    {
        var chart = await RenderedChart.RenderAsync(null, "containerdHosts.enabled=false");

        Assert.Equal(["agent"], chart.PodSpec["containers"].Items.Select(c => c["name"].Text));
        Assert.DoesNotContain(chart.PodSpec["volumes"].Items, v => v["name"].Text == "containerd-hosts");
    }

    [Fact]
    public void The_control_socket_is_in_a_host_path_folder_and_the_agent_and_cli_both_name_it()
    {
        Assert.Equal("/run/nodecache/control.sock", _chart.AgentConfig["control-socket"].Text);
        Assert.False(_chart.AgentConfig.Has("control-listen"));
        var hostPath = _chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == "control")["hostPath"];
        Assert.Equal("/run/nodecache", hostPath["path"].Text);
        Assert.Equal("DirectoryOrCreate", hostPath["type"].Text);
        Assert.Equal("/run/nodecache", _chart.AgentContainer["volumeMounts"].Items.Single(m => m["name"].Text == "control")["mountPath"].Text);
        Assert.Equal("/run/nodecache/control.sock", _chart.AgentEnvironment()["NODECACHE_CONTROL_SOCKET"]);

        using var folder = TempFolder.Create("chart-control");
        var options = _chart.LoadAgentOptions(folder);
        Assert.Equal("/run/nodecache/control.sock", options.ControlSocket);
        Assert.Null(options.ControlListen);
        Assert.Null(options.MetricsListen);
    }

    [Fact]
    public void The_cluster_role_grants_reading_pods_nodes_workloads_and_image_prewarms_and_no_secrets()
    {
        var rules = _chart.AgentClusterRole["rules"].Items
            .Select(r => (Groups: string.Join(",", r["apiGroups"].Texts), Resources: string.Join(",", r["resources"].Texts), Verbs: string.Join(",", r["verbs"].Texts)))
            .ToList();

        Assert.Equal(
            [
                ("", "pods", "list,watch"),
                ("", "nodes", "get"),
                ("apps", "deployments,statefulsets,daemonsets", "list,watch"),
                ("nodecache.io", "imageprewarms", "get,list,watch"),
                ("nodecache.io", "imageprewarms/status", "get,update,patch"),
            ],
            rules);
        var binding = _chart.OfKind("ClusterRoleBinding");
        Assert.Equal(_chart.AgentClusterRole["metadata"]["name"].Text, binding["roleRef"]["name"].Text);
        var subject = Assert.Single(binding["subjects"].Items);
        Assert.Equal("ServiceAccount", subject["kind"].Text);
        Assert.Equal(_chart.PodSpec["serviceAccountName"].Text, subject["name"].Text);
        Assert.Equal(RenderedChart.Namespace, subject["namespace"].Text);
    }

    [Fact]
    public void The_image_prewarm_crd_is_cluster_scoped_with_images_node_selector_pin_ttl_and_per_node_status()
    {
        var crd = _chart.OfKind("CustomResourceDefinition");

        Assert.Equal("imageprewarms.nodecache.io", crd["metadata"]["name"].Text);
        Assert.Equal("keep", crd["metadata"]["annotations"]["helm.sh/resource-policy"].Text);
        Assert.Equal("nodecache.io", crd["spec"]["group"].Text);
        Assert.Equal("Cluster", crd["spec"]["scope"].Text);
        Assert.Equal("ImagePrewarm", crd["spec"]["names"]["kind"].Text);
        var version = Assert.Single(crd["spec"]["versions"].Items);
        Assert.Equal("v1alpha1", version["name"].Text);
        Assert.Equal("true", version["served"].Text);
        Assert.Equal("true", version["storage"].Text);
        Assert.True(version["subresources"].Has("status"));
        var schema = version["schema"]["openAPIV3Schema"]["properties"];
        var spec = schema["spec"];
        Assert.Equal(["images"], spec["required"].Texts);
        Assert.Equal(["images", "nodeSelector", "platform", "pin", "ttl"], spec["properties"].Keys);
        Assert.Equal("1", spec["properties"]["images"]["minItems"].Text);
        Assert.Equal("string", spec["properties"]["nodeSelector"]["additionalProperties"]["type"].Text);
        Assert.Equal("boolean", spec["properties"]["pin"]["type"].Text);
        // Keyed by node name: each node's merge patch then touches its own key, where a list would be replaced whole.
        var nodes = schema["status"]["properties"]["nodes"];
        Assert.Equal("object", nodes["type"].Text);
        var entry = nodes["additionalProperties"];
        Assert.Equal(["Pending", "Pulling", "Ready", "Failed", "Expired"], entry["properties"]["phase"]["enum"].Texts);
        Assert.Equal(["phase", "observedGeneration", "imagesReady", "bytesFetched", "pinned", "message", "lastUpdate"], entry["properties"].Keys);
    }

    [Fact]
    public void Prewarming_users_get_a_cluster_role_to_create_and_follow_image_prewarms_and_count_nodes_that_nothing_binds()
    {
        var role = _chart.Manifests.Single(m => m["kind"].Text == "ClusterRole" && m["metadata"]["name"].Text.EndsWith("-prewarm", StringComparison.Ordinal));
        var rules = role["rules"].Items
            .Select(r => (Groups: string.Join(",", r["apiGroups"].Texts), Resources: string.Join(",", r["resources"].Texts), Verbs: string.Join(",", r["verbs"].Texts)))
            .ToList();

        Assert.Equal([("nodecache.io", "imageprewarms", "create,get,list,watch,delete"), ("", "nodes", "list")], rules);
        Assert.DoesNotContain(_chart.Manifests, m => m["kind"].Text == "ClusterRoleBinding" && m["roleRef"]["name"].Text == role["metadata"]["name"].Text);
    }

    [Fact]
    public void Nothing_for_prometheus_operator_or_grafana_is_rendered_by_default()
    {
        Assert.DoesNotContain(_chart.Manifests, m => m["kind"].Text is "Service" or "ServiceMonitor" or "PrometheusRule");
        Assert.DoesNotContain(_chart.AgentContainer["ports"].Items, p => p["name"].Text == "metrics");
        Assert.False(_chart.AgentEnvironment().ContainsKey("NODECACHE_METRICS_LISTEN"));
    }

    [Fact]
    public async Task A_service_monitor_without_a_metrics_address_is_refused_with_the_reason()
    {
        var run = await Helm.RunAsync("template", RenderedChart.ReleaseName, Helm.Chart("nodecache"), "--set", "metrics.serviceMonitor.enabled=true");

        Assert.False(run.Succeeded);
        Assert.Contains("metrics.serviceMonitor needs metrics.listen", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rbac_and_the_crd_can_be_left_to_the_cluster_admin()
    {
        var chart = await RenderedChart.RenderAsync(null, "rbac.create=false", "crds.install=false");

        Assert.DoesNotContain(chart.Manifests, m => m["kind"].Text is "ClusterRole" or "ClusterRoleBinding" or "CustomResourceDefinition");
    }
}

/// <summary>The operating side of the chart with <see cref="ChartValues.EveryOption"/>.</summary>
public sealed class ChartOperationEveryOptionTests(EveryOptionRender render) : IClassFixture<EveryOptionRender>
{
    private readonly RenderedChart _chart = render.Chart;

    [Fact]
    public void Pull_secrets_add_reading_secrets_and_service_accounts_to_the_cluster_role()
    {
        var secrets = _chart.AgentClusterRole["rules"].Items.Single(r => r["resources"].Texts.Contains("secrets"));

        Assert.Equal(["secrets", "serviceaccounts"], secrets["resources"].Texts);
        Assert.Equal(["get"], secrets["verbs"].Texts);
    }

    [Fact]
    public void Prefetch_control_and_metrics_settings_reach_the_agent()
    {
        var environment = _chart.AgentEnvironment();
        Assert.Equal("4", environment["NODECACHE_PREFETCH_CONCURRENCY"]);
        Assert.Equal("50MiB", environment["NODECACHE_PREFETCH_BANDWIDTH"]);
        Assert.Equal("true", environment["NODECACHE_PULL_SECRETS"]);
        Assert.Equal("serve", environment["NODECACHE_PRIVATE_IMAGES"]);
        Assert.Equal($"{RenderedChart.NodeIp}:9405", environment["NODECACHE_METRICS_LISTEN"]);

        using var folder = TempFolder.Create("chart-every-option-control");
        var options = _chart.LoadAgentOptions(folder);
        Assert.Equal("/var/run/nodecache-control/agent.sock", options.ControlSocket);
        Assert.Equal("127.0.0.1:5052", options.ControlListen);
        Assert.Equal($"{RenderedChart.NodeIp}:9405", options.MetricsListen);
        Assert.Equal("/var/run/nodecache-control", _chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == "control")["hostPath"]["path"].Text);
    }

    [Fact]
    public void The_sidecar_writes_the_listed_registries_into_the_configured_folder_pointing_at_the_first_listen_address()
    {
        var sidecar = _chart.PodSpec["containers"].Items.Single(c => c["name"].Text == "containerd-hosts");

        Assert.Equal(
            ["nodecache", "containerd", "hosts", "--until-stopped", "--mirror", "http://127.0.0.1:5051", "--dir", "/etc/containerd/registries.d",
             "--registry", "docker.io=https://registry-1.docker.io", "--registry", "harbor.example"],
            sidecar["command"].Texts);
        Assert.Equal("/etc/containerd/registries.d", _chart.PodSpec["volumes"].Items.Single(v => v["name"].Text == "containerd-hosts")["hostPath"]["path"].Text);
    }

    [Fact]
    public void A_headless_service_and_a_service_monitor_scrape_the_metrics_port_on_every_node()
    {
        var port = _chart.AgentContainer["ports"].Items.Single(p => p["name"].Text == "metrics");
        Assert.Equal("9405", port["containerPort"].Text);

        var service = _chart.Manifests.Single(m => m["kind"].Text == "Service" && m["metadata"]["name"].Text == "nodecache-metrics");
        Assert.Equal("None", service["spec"]["clusterIP"].Text);
        var servicePort = Assert.Single(service["spec"]["ports"].Items);
        Assert.Equal("9405", servicePort["port"].Text);
        Assert.Equal("metrics", servicePort["targetPort"].Text);
        Assert.Equal(_chart.DaemonSet["spec"]["selector"]["matchLabels"].TextMap, service["spec"]["selector"].TextMap);

        var monitor = _chart.OfKind("ServiceMonitor");
        Assert.Equal("monitoring.coreos.com/v1", monitor["apiVersion"].Text);
        Assert.Equal("kube-prometheus", monitor["metadata"]["labels"]["release"].Text);
        Assert.All(monitor["spec"]["selector"]["matchLabels"].TextMap, label => Assert.Equal(label.Value, service["metadata"]["labels"][label.Key].Text));
        var endpoint = Assert.Single(monitor["spec"]["endpoints"].Items);
        Assert.Equal("metrics", endpoint["port"].Text);
        Assert.Equal("/metrics", endpoint["path"].Text);
        Assert.Equal("15s", endpoint["interval"].Text);
        Assert.Equal("node", Assert.Single(endpoint["relabelings"].Items)["targetLabel"].Text);
    }

    [Fact]
    public void The_prometheus_rule_alerts_on_failing_upstreams_digest_mismatches_failing_fills_and_slow_pulls()
    {
        var rule = _chart.OfKind("PrometheusRule");

        Assert.Equal("kube-prometheus", rule["metadata"]["labels"]["release"].Text);
        var alerts = Assert.Single(rule["spec"]["groups"].Items)["rules"].Items;
        Assert.Equal(["NodeCacheUpstreamFailing", "NodeCacheDigestMismatch", "NodeCacheFillsFailing", "NodeCacheSlowColdPulls"], alerts.Select(a => a["alert"].Text));
        Assert.All(alerts, a => Assert.Contains("nodecache_", a["expr"].Text, StringComparison.Ordinal));
        Assert.Equal("critical", alerts[1]["labels"]["severity"].Text);
    }

    [Fact]
    public void The_dashboard_config_map_carries_the_grafana_sidecar_label_and_the_dashboard_json()
    {
        var map = _chart.Manifests.Single(m => m["kind"].Text == "ConfigMap" && m["data"].Has("nodecache.json"));

        Assert.Equal("1", map["metadata"]["labels"]["grafana_dashboard"].Text);
        Assert.Equal("platform", map["metadata"]["labels"]["team"].Text);
        var dashboard = JsonDocument.Parse(map["data"]["nodecache.json"].Text).RootElement;
        Assert.Equal("NodeCache", dashboard.GetProperty("title").GetString());
        var panels = dashboard.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal(11, panels.Count);
        Assert.All(panels, p => Assert.All(p.GetProperty("targets").EnumerateArray(), t => Assert.Contains("nodecache_", t.GetProperty("expr").GetString(), StringComparison.Ordinal)));
        Assert.Equal(File.ReadAllText(Path.Combine(Helm.Chart("nodecache"), "dashboards", "nodecache.json")).TrimEnd(), map["data"]["nodecache.json"].Text.TrimEnd());
    }
}
