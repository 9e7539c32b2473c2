using System.Net;

namespace NodeCache.Agent.Configuration;

/// <summary>A listen address as <c>HOST:PORT</c> or <c>[IPv6]:PORT</c>; a node agent binds to loopback by default.</summary>
internal static class ListenAddress
{
    public static string Validate(string text)
    {
        _ = Parse(text);
        return text;
    }

    public static IPEndPoint Parse(string text) => TryParse(text, out var endpoint) ? endpoint : throw new FormatException($"'{text}' is not HOST:PORT");

    public static bool TryParse(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(text.AsSpan(colon + 1), out var port))
        {
            return false;
        }
        var host = text[..colon].Trim('[', ']');
        if (host is "localhost")
        {
            host = "127.0.0.1";
        }
        if (!IPAddress.TryParse(host, out var address))
        {
            return false;
        }
        endpoint = new IPEndPoint(address, port);
        return true;
    }

    /// <summary>True when a connection accepted on <paramref name="local"/> came in through <paramref name="listened"/>; a wildcard listener accepts on every local address.</summary>
    public static bool Matches(IPEndPoint listened, IPAddress? local) =>
        listened.Address.Equals(IPAddress.Any) || listened.Address.Equals(IPAddress.IPv6Any)
        || (local is not null && (local.Equals(listened.Address) || local.MapToIPv6().Equals(listened.Address.MapToIPv6())));
}
