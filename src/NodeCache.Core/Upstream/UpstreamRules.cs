using System.Diagnostics.CodeAnalysis;
using NodeCache.Oci;

namespace NodeCache.Upstream;

/// <summary>Rules from registry name to route, as given by the agent's repeatable <c>--upstream NS=URL[,URL...]</c> flag.</summary>
public sealed class UpstreamRules
{
    /// <summary>The NS that matches any registry without a rule of its own.</summary>
    public const string DefaultRegistry = "_default";

    /// <summary>The URL that means the registry itself, over HTTPS.</summary>
    public const string DirectUrl = "direct";

    private readonly Dictionary<string, IReadOnlyList<UpstreamEndpoint?>> _rules;
    private readonly IReadOnlyList<UpstreamEndpoint?>? _default;

    private UpstreamRules(Dictionary<string, IReadOnlyList<UpstreamEndpoint?>> rules, IReadOnlyList<string> registries)
    {
        _rules = rules;
        _default = rules.GetValueOrDefault(DefaultRegistry);
        Registries = registries;
    }

    /// <summary>What the agent uses with no <c>--upstream</c> flag at all: every registry direct.</summary>
    public static UpstreamRules Direct { get; } = Parse([$"{DefaultRegistry}={DirectUrl}"]);

    /// <summary>The NS of each rule, in the order given; for logging at startup.</summary>
    public IReadOnlyList<string> Registries { get; }

    /// <summary>Parses <c>NS=URL[,URL...]</c> specs; a URL's path is the endpoint's path prefix, <c>direct</c> means https://NS.</summary>
    /// <exception cref="FormatException">A one-line message naming the bad spec.</exception>
    public static UpstreamRules Parse(IEnumerable<string> specs)
    {
        var rules = new Dictionary<string, IReadOnlyList<UpstreamEndpoint?>>(StringComparer.OrdinalIgnoreCase);
        var registries = new List<string>();
        foreach (var spec in specs)
        {
            var (registry, endpoints) = ParseSpec(spec);
            if (!rules.TryAdd(registry, endpoints))
            {
                throw Bad(spec, $"'{registry}' already has a rule");
            }
            registries.Add(registry);
        }
        return new UpstreamRules(rules, registries);
    }

    /// <summary>The route for a registry name as containerd passes it in <c>ns</c>; false when no rule applies or the name is not a host[:port].</summary>
    public bool TryResolve(string registry, [NotNullWhen(true)] out UpstreamRoute? route)
    {
        route = null;
        if (!RegistryHost.IsValid(registry))
        {
            return false;
        }
        registry = registry.ToLowerInvariant();
        if (!_rules.TryGetValue(registry, out var endpoints))
        {
            endpoints = _default;
        }
        if (endpoints is null)
        {
            return false;
        }
        var resolved = new UpstreamEndpoint[endpoints.Count];
        for (var i = 0; i < resolved.Length; i++)
        {
            resolved[i] = endpoints[i] ?? DirectEndpoint(registry);
        }
        route = new UpstreamRoute(registry, resolved);
        return true;
    }

    /// <summary>https://NS, except that docker.io's API lives on registry-1.docker.io (as containerd maps it).</summary>
    internal static UpstreamEndpoint DirectEndpoint(string registry) =>
        new(new Uri(registry == "docker.io" ? "https://registry-1.docker.io/" : $"https://{registry}/"), null);

    // A null endpoint stands for `direct`, resolved per registry: under `_default` it names a different host each time.
    private static (string Registry, IReadOnlyList<UpstreamEndpoint?> Endpoints) ParseSpec(string spec)
    {
        var equals = spec.IndexOf('=');
        if (equals <= 0)
        {
            throw Bad(spec, "expected NS=URL[,URL...]");
        }
        var registry = spec[..equals].Trim().ToLowerInvariant();
        if (registry != DefaultRegistry && !RegistryHost.IsValid(registry))
        {
            throw Bad(spec, $"'{registry}' is not a registry host[:port] or {DefaultRegistry}");
        }
        var endpoints = new List<UpstreamEndpoint?>();
        foreach (var part in spec[(equals + 1)..].Split(','))
        {
            var url = part.Trim();
            if (url.Length == 0)
            {
                throw Bad(spec, "expected NS=URL[,URL...]");
            }
            endpoints.Add(url.Equals(DirectUrl, StringComparison.OrdinalIgnoreCase) ? null : ParseEndpoint(spec, registry, url));
        }
        return (registry, endpoints);
    }

    private static UpstreamEndpoint ParseEndpoint(string spec, string registry, string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw Bad(spec, $"'{url}' is not an http(s) URL or {DirectUrl}");
        }
        if (uri.UserInfo.Length > 0)
        {
            // Named by NS only: echoing the spec would print the password the URL carries.
            throw new FormatException($"--upstream for '{registry}': a URL must not carry credentials; give them as credentials for its host");
        }
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw Bad(spec, $"'{url}' has a query or fragment");
        }
        var path = uri.AbsolutePath.Trim('/');
        string? prefix = null;
        if (path.Length > 0)
        {
            // The prefix is spliced into every repository name sent upstream, so it must obey the same grammar.
            if (!RepositoryName.TryParse(path, out _))
            {
                throw Bad(spec, $"path '{path}' of '{url}' is not a valid project (repository path) prefix");
            }
            prefix = path;
        }
        return new UpstreamEndpoint(new UriBuilder(uri.Scheme, uri.Host, uri.Port).Uri, prefix);
    }

    private static FormatException Bad(string spec, string problem) => new($"--upstream '{spec}': {problem}");
}
