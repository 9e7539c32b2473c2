using System.Diagnostics.CodeAnalysis;

namespace NodeCache.Peers;

/// <summary>One agent of the cluster as membership names it: where its peer API is, on which node and in which zone.</summary>
/// <param name="Id">The peer URL in one canonical form (<c>http://10.0.0.7:5051</c>): what ownership hashes and what agents call each other by.</param>
/// <param name="Ready">Only ready members own blobs and are asked for them; the others are listed for operators.</param>
public sealed record PeerMember(string Id, string? NodeName = null, string? Zone = null, bool Ready = true)
{
    /// <summary>The peer API's base address.</summary>
    public Uri Url => new(Id + "/");

    /// <summary>A member from a peer URL, made canonical.</summary>
    /// <exception cref="FormatException">Not an http(s) URL of a host and port with nothing else.</exception>
    public static PeerMember Parse(string url, string? nodeName = null, string? zone = null, bool ready = true) =>
        new(CanonicalUrl(url), nodeName, zone, ready);

    /// <summary><c>scheme://host:port</c>, lower case, the port always given, so that two spellings of one agent are one member.</summary>
    /// <exception cref="FormatException">Not an http(s) URL of a host and port with nothing else.</exception>
    public static string CanonicalUrl(string url) =>
        TryCanonicalUrl(url, out var canonical, out var problem) ? canonical : throw new FormatException($"peer URL '{url}': {problem}");

    public static bool TryCanonicalUrl(string url, [NotNullWhen(true)] out string? canonical, [NotNullWhen(false)] out string? problem)
    {
        canonical = null;
        problem = null;
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            problem = "expected http://HOST:PORT or https://HOST:PORT";
            return false;
        }
        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.AbsolutePath != "/")
        {
            problem = "a peer URL is a scheme, a host and a port, with no path, query or credentials";
            return false;
        }
        canonical = $"{uri.Scheme}://{uri.Host.ToLowerInvariant()}:{uri.Port}";
        return true;
    }

    public override string ToString() => NodeName is null ? Id : $"{Id} ({NodeName})";
}
