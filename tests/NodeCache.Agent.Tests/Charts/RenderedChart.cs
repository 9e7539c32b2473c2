using NodeCache.Agent.Configuration;
using NodeCache.Testing;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>
/// The manifests <c>helm template</c> renders from charts/nodecache with a values file (or the chart's defaults),
/// parsed into <see cref="YamlNode"/>s, with the pieces the tests look at most: the DaemonSet, its agent container
/// and the agent config the ConfigMap carries.
/// </summary>
public sealed class RenderedChart
{
    public const string ReleaseName = "nodecache";
    public const string Namespace = "nodecache-system";

    /// <summary>Where the DaemonSet mounts the ConfigMap's agent.yaml and tells the agent to read it.</summary>
    public const string ConfigPath = "/etc/nodecache/config/agent.yaml";

    private RenderedChart(string text, IReadOnlyList<YamlNode> manifests)
    {
        Text = text;
        Manifests = manifests;
    }

    /// <summary>helm's output as it printed it.</summary>
    public string Text { get; }

    public IReadOnlyList<YamlNode> Manifests { get; }

    public YamlNode DaemonSet => OfKind("DaemonSet");

    /// <summary>The agent's ClusterRole: the one its ClusterRoleBinding grants (the chart also renders one for prewarming users).</summary>
    public YamlNode AgentClusterRole =>
        Manifests.Single(m => m["kind"].Text == "ClusterRole" && m["metadata"]["name"].Text == OfKind("ClusterRoleBinding")["roleRef"]["name"].Text);

    /// <summary>The ConfigMap holding the agent's config (the chart may render others, such as the dashboard's).</summary>
    public YamlNode ConfigMap => Manifests.Single(m => m["kind"].Text == "ConfigMap" && m["data"].Has("agent.yaml"));

    public YamlNode PodSpec => DaemonSet["spec"]["template"]["spec"];

    public YamlNode AgentContainer => PodSpec["containers"].Items.Single(c => c["name"].Text == "agent");

    /// <summary>The ConfigMap's agent.yaml as text, the file the agent reads with --config.</summary>
    public string AgentConfigText => ConfigMap["data"]["agent.yaml"].Text;

    /// <summary>The agent config parsed as YAML.</summary>
    public YamlNode AgentConfig => YamlNode.Parse(AgentConfigText).Single();

    /// <summary>Renders the chart; <paramref name="valuesFile"/> null means the chart's own values, and each <paramref name="sets"/> is a --set.</summary>
    public static Task<RenderedChart> RenderAsync(string? valuesFile = null, params string[] sets) => RenderAsync(valuesFile, sets, kubeconfig: null);

    /// <summary>Renders as an install or upgrade into the cluster <paramref name="kubeconfig"/> names would: the chart's lookups read that cluster.</summary>
    public static Task<RenderedChart> RenderAgainstAsync(string kubeconfig, params string[] sets) => RenderAsync(null, sets, kubeconfig);

    private static async Task<RenderedChart> RenderAsync(string? valuesFile, string[] sets, string? kubeconfig)
    {
        List<string> arguments = ["template", ReleaseName, Helm.Chart("nodecache"), "--namespace", Namespace];
        if (kubeconfig is not null)
        {
            arguments.AddRange(["--dry-run=server", "--kubeconfig", kubeconfig]);
        }
        if (valuesFile is not null)
        {
            arguments.AddRange(["--values", valuesFile]);
        }
        foreach (var set in sets)
        {
            arguments.AddRange(["--set", set]);
        }
        var run = (await Helm.RunAsync([.. arguments])).EnsureSucceeded("helm template");
        return new RenderedChart(run.Stdout, YamlNode.Parse(run.Stdout));
    }

    public YamlNode OfKind(string kind)
    {
        var found = Manifests.Where(m => m["kind"].Text == kind).ToList();
        return found.Count == 1 ? found[0] : throw new InvalidOperationException($"expected one {kind}, rendered {found.Count}:\n{Text}");
    }

    /// <summary>
    /// The agent container's environment as the kubelet sets it: field references resolved for a node named
    /// <see cref="NodeName"/> at <see cref="NodeIp"/>, and <c>$(VAR)</c> references to earlier variables expanded.
    /// </summary>
    internal Dictionary<string, string> AgentEnvironment() => Environment(AgentContainer);

    /// <summary>A container's environment as the kubelet sets it (see <see cref="AgentEnvironment"/>).</summary>
    internal static Dictionary<string, string> Environment(YamlNode container)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!container.Has("env"))
        {
            return environment;
        }
        foreach (var variable in container["env"].Items)
        {
            var value = variable.Has("value")
                ? variable["value"].Text
                : variable["valueFrom"]["fieldRef"]["fieldPath"].Text switch
                {
                    "spec.nodeName" => NodeName,
                    "status.hostIP" => NodeIp,
                    var other => throw new InvalidOperationException($"no test value for field {other}"),
                };
            foreach (var (name, earlier) in environment)
            {
                value = value.Replace($"$({name})", earlier, StringComparison.Ordinal);
            }
            environment[variable["name"].Text] = value;
        }
        return environment;
    }

    public const string NodeName = "node-a";
    public const string NodeIp = "10.0.0.7";

    /// <summary>
    /// What the real agent makes of the container as rendered: its args, with the config path pointing at a copy
    /// of the ConfigMap's agent.yaml in <paramref name="folder"/>, and the environment the container sets.
    /// </summary>
    internal AgentOptions LoadAgentOptions(TempFolder folder)
    {
        var config = folder.Combine("agent.yaml");
        File.WriteAllText(config, AgentConfigText);
        var args = AgentContainer["args"].Items.Select(a => a.Text == ConfigPath ? config : a.Text).ToArray();
        var environment = AgentEnvironment();
        return AgentSettings.Load(args, name => environment.GetValueOrDefault(name));
    }
}

/// <summary>A node of a parsed YAML document: a mapping, a sequence or a scalar (every scalar as its text).</summary>
public sealed class YamlNode
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();
    private static readonly ISerializer Serializer = new SerializerBuilder().Build();

    private readonly object? _value;
    private readonly string _path;

    private YamlNode(object? value, string path)
    {
        _value = value;
        _path = path;
    }

    public YamlNode this[string key] =>
        _value is IDictionary<object, object?> map
            ? map.TryGetValue(key, out var child) ? new YamlNode(child, $"{_path}.{key}") : throw new KeyNotFoundException($"{_path} has no '{key}' (it has {string.Join(", ", map.Keys)})")
            : throw new InvalidOperationException($"{_path} is not a mapping");

    public YamlNode this[int index] => Items[index];

    public bool Has(string key) => _value is IDictionary<object, object?> map && map.ContainsKey(key);

    public IReadOnlyList<YamlNode> Items =>
        _value is IList<object?> list
            ? [.. list.Select((item, i) => new YamlNode(item, $"{_path}[{i}]"))]
            : throw new InvalidOperationException($"{_path} is not a sequence");

    public IReadOnlyList<string> Keys =>
        _value is IDictionary<object, object?> map ? [.. map.Keys.Select(k => k.ToString()!)] : throw new InvalidOperationException($"{_path} is not a mapping");

    /// <summary>A scalar's text; throws for a mapping or sequence.</summary>
    public string Text => _value as string ?? throw new InvalidOperationException($"{_path} is not a scalar");

    /// <summary>Each item's text, for a sequence of scalars.</summary>
    public IReadOnlyList<string> Texts => [.. Items.Select(i => i.Text)];

    /// <summary>A mapping of scalars, as a dictionary.</summary>
    public IReadOnlyDictionary<string, string> TextMap => Keys.ToDictionary(k => k, k => this[k].Text);

    /// <summary>This node written back as a YAML document (a rendered manifest's part as a file of its own).</summary>
    public string ToYaml() => Serializer.Serialize(_value);

    /// <summary>Every non-empty document of a YAML stream.</summary>
    public static IReadOnlyList<YamlNode> Parse(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        var documents = new List<YamlNode>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var document = Deserializer.Deserialize<object?>(parser);
            if (document is not null)
            {
                documents.Add(new YamlNode(document, $"document {documents.Count}"));
            }
        }
        return documents;
    }

    public override string ToString() => _path;
}
