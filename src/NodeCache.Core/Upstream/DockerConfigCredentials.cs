using System.Text;
using System.Text.Json;

namespace NodeCache.Upstream;

/// <summary>
/// The credentials of <c>.dockerconfigjson</c> documents (the content of <c>kubernetes.io/dockerconfigjson</c> pull
/// secrets), matched to an image the way the kubelet's keyring does: the key's host, with <c>*</c> globs per label,
/// and its port must match the registry's; a key's path must prefix the repository; the most specific key comes first.
/// </summary>
public sealed class DockerConfigCredentials
{
    private readonly List<(string Host, string? Port, string Path, RegistryCredential Credential)> _entries = [];

    public int Count => _entries.Count;

    /// <summary>Adds the <c>auths</c> of one document; false when it is not one (nothing is added, and nothing of it is echoed).</summary>
    public bool Add(ReadOnlySpan<byte> dockerConfigJson)
    {
        try
        {
            using var document = JsonDocument.Parse(dockerConfigJson.ToArray());
            if (!document.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            foreach (var entry in auths.EnumerateObject())
            {
                if (Credential(entry.Value) is { } credential && Key(entry.Name) is { } key)
                {
                    _entries.Add((key.Host, key.Port, key.Path, credential));
                }
            }
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The credentials that apply to <paramref name="registry"/>/<paramref name="repository"/>, most specific first, each once.</summary>
    public IReadOnlyList<RegistryCredential> Match(string registry, string repository)
    {
        var (host, port) = SplitPort(registry.ToLowerInvariant());
        return [.. _entries
            .Where(e => e.Port == port && HostMatches(e.Host, host) && (e.Path.Length == 0 || repository == e.Path || repository.StartsWith(e.Path + "/", StringComparison.Ordinal)))
            .OrderByDescending(e => e.Path.Length).ThenBy(e => e.Host.Count(c => c == '*'))
            .Select(e => e.Credential)
            .Distinct()];
    }

    private static RegistryCredential? Credential(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var username = Text(value, "username");
        var password = Text(value, "password");
        if ((string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password)) && Text(value, "auth") is { Length: > 0 } auth)
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                username = decoded[..colon];
                password = decoded[(colon + 1)..];
            }
        }
        return string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password) ? null : new RegistryCredential(username, password);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // Keys are written every which way: "harbor.example", "https://harbor.example/v1/", "harbor.example:5000/team".
    private static (string Host, string? Port, string Path)? Key(string key)
    {
        var text = key.Trim();
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            text = text[(scheme + 3)..];
        }
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var path = slash < 0 ? "" : text[(slash + 1)..].Trim('/');
        var authority = slash < 0 ? text : text[..slash];
        if (path is "v1" or "v2")
        {
            path = "";
        }
        var (host, port) = SplitPort(authority.ToLowerInvariant());
        return host.Length == 0 ? null : (host, port, path);
    }

    private static (string Host, string? Port) SplitPort(string authority)
    {
        var colon = authority.LastIndexOf(':');
        return colon > 0 ? (authority[..colon], authority[(colon + 1)..]) : (authority, null);
    }

    private static bool HostMatches(string pattern, string host)
    {
        var patternLabels = pattern.Split('.');
        var hostLabels = host.Split('.');
        if (patternLabels.Length != hostLabels.Length)
        {
            return false;
        }
        for (var i = 0; i < hostLabels.Length; i++)
        {
            if (!LabelMatches(patternLabels[i], hostLabels[i]))
            {
                return false;
            }
        }
        return true;
    }

    // A label glob: '*' stands for any run of characters within the label.
    private static bool LabelMatches(string pattern, string label)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return pattern == label;
        }
        var parts = pattern.Split('*');
        if (!label.StartsWith(parts[0], StringComparison.Ordinal) || !label.EndsWith(parts[^1], StringComparison.Ordinal))
        {
            return false;
        }
        var at = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = label.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }
            at = found + parts[i].Length;
        }
        return at <= label.Length - parts[^1].Length;
    }
}
