using System.Globalization;
using System.Net;
using NodeCache.Peers;

namespace NodeCache.Agent.Configuration;

/// <summary>The parsers of the peer settings and the rules between them; each mistake is one line that names the setting.</summary>
internal static class PeerSettings
{
    public static string Url(string value) => PeerMember.CanonicalUrl(value);

    /// <summary>Each value may itself list URLs separated by commas.</summary>
    public static string[] Urls(IEnumerable<string> values) =>
        [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(PeerMember.CanonicalUrl).Distinct(StringComparer.Ordinal)];

    public static string Service(string value)
    {
        var parts = value.Trim().Split('/');
        return parts.Length == 2 && parts.All(IsDnsLabel) ? value.Trim() : throw new FormatException($"'{value}' is not NAMESPACE/NAME");
    }

    public static int Uploads(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 256
            ? n
            : throw new FormatException($"'{value}' is not a number of uploads from 1 to 256");

    /// <summary>The options with <see cref="AgentOptions.PeerUrl"/> filled in; a <see cref="FormatException"/> when the peer settings do not fit together.</summary>
    public static AgentOptions Check(AgentOptions options)
    {
        var others = options.Peers.Count > 0 || options.PeersService is not null || options.PeerTokenFile is not null || options.PeerUrl is not null
            || options.PeerTlsCert is not null || options.PeerTlsKey is not null || options.PeerTlsCa is not null;
        if (options.PeerListen is not { } listen)
        {
            return others ? throw new FormatException("the peer settings need --peer-listen, which turns peering on") : options;
        }
        if (options.PeerTokenFile is null)
        {
            throw new FormatException("--peer-listen needs --peer-token-file: peer requests must prove the cluster's secret");
        }
        if ((options.Peers.Count > 0) == (options.PeersService is not null))
        {
            throw new FormatException("--peer-listen needs the membership: either --peers or --peers-service");
        }
        if ((options.PeerTlsCert is null) != (options.PeerTlsKey is null))
        {
            throw new FormatException("--peer-tls-cert and --peer-tls-key go together");
        }
        var scheme = options.PeerTlsCert is null ? "http" : "https";
        var url = options.PeerUrl ?? DerivedUrl(listen, scheme);
        if (!url.StartsWith(scheme + "://", StringComparison.Ordinal))
        {
            throw new FormatException($"--peer-url '{url}' must be {scheme}://, as the peer API {(scheme == "https" ? "serves TLS" : "serves plain HTTP")}");
        }
        if (options.Peers.Count > 0 && !options.Peers.Contains(url, StringComparer.Ordinal))
        {
            throw new FormatException($"--peers must include this agent's own peer URL {url}, by which it recognises itself");
        }
        return options with { PeerUrl = url };
    }

    private static string DerivedUrl(string listen, string scheme)
    {
        var endpoint = ListenAddress.Parse(listen);
        if (endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            throw new FormatException($"--peer-listen {listen} listens on every address: give --peer-url, the address the other agents reach this one at");
        }
        return PeerMember.CanonicalUrl($"{scheme}://{endpoint}");
    }

    private static bool IsDnsLabel(string label) =>
        label.Length is > 0 and <= 63 && label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && label[0] != '-' && label[^1] != '-';
}
