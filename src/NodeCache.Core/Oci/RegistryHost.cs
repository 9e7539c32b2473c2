namespace NodeCache.Oci;

/// <summary>A registry host as image references name it: DNS labels or an IP, with an optional port (<c>harbor.example:8443</c>, <c>[::1]:5000</c>).</summary>
public static class RegistryHost
{
    // 253 is DNS's limit for a name; the port adds at most 6.
    private const int MaxLength = 260;

    public static bool IsValid(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > MaxLength)
        {
            return false;
        }
        var host = text;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']');
            if (close < 0 || !System.Net.IPAddress.TryParse(text[1..close], out _))
            {
                return false;
            }
            return close == text.Length - 1 || IsPort(text[(close + 1)..]);
        }
        var colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!IsPort(text[colon..]))
            {
                return false;
            }
            host = text[..colon];
        }
        foreach (var range in host.Split('.'))
        {
            var label = host[range];
            if (label.IsEmpty || label.Length > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }
            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }
        }
        return true;
    }

    // ":1" to ":65535"
    private static bool IsPort(ReadOnlySpan<char> text) =>
        text.Length > 1 && text[0] == ':' && ushort.TryParse(text[1..], System.Globalization.NumberStyles.None, null, out var port) && port > 0;
}
