using System.Text;

namespace NodeCache.Upstream;

/// <summary>One challenge of a <c>WWW-Authenticate</c> header (RFC 9110 §11.6.1): a scheme and its auth-params.</summary>
internal sealed class AuthChallenge
{
    private readonly Dictionary<string, string> _parameters = new(StringComparer.OrdinalIgnoreCase);

    private AuthChallenge(string scheme) => Scheme = scheme;

    public string Scheme { get; }

    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public string? Realm => Parameter("realm");

    public string? Service => Parameter("service");

    /// <summary>The scopes asked for; the token spec separates several with spaces.</summary>
    public IReadOnlyList<string> Scopes =>
        Parameter("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    public string? Parameter(string name) => _parameters.GetValueOrDefault(name);

    /// <summary>The challenge this client answers: Bearer with a realm before Basic, others ignored.</summary>
    public static AuthChallenge? Select(IEnumerable<string> headerValues)
    {
        AuthChallenge? basic = null;
        foreach (var challenge in headerValues.SelectMany(Parse))
        {
            if (challenge.IsBearer && challenge.Realm is not null)
            {
                return challenge;
            }
            if (challenge.IsBasic)
            {
                basic ??= challenge;
            }
        }
        return basic;
    }

    /// <summary>All challenges of one header value; several may share a line, separated by commas like their params.</summary>
    public static List<AuthChallenge> Parse(string header)
    {
        var challenges = new List<AuthChallenge>();
        AuthChallenge? current = null;
        var i = 0;
        while (true)
        {
            while (i < header.Length && (header[i] is ' ' or '\t' or ','))
            {
                i++;
            }
            if (i >= header.Length)
            {
                return challenges;
            }
            var token = ReadToken(header, ref i);
            if (token.Length == 0)
            {
                i++; // not a token character: skip it rather than give up on the rest
                continue;
            }
            var afterToken = i;
            while (i < header.Length && header[i] is ' ' or '\t')
            {
                i++;
            }
            if (i < header.Length && header[i] == '=')
            {
                i++;
                while (i < header.Length && header[i] is ' ' or '\t')
                {
                    i++;
                }
                var value = i < header.Length && header[i] == '"' ? ReadQuoted(header, ref i) : ReadToken(header, ref i);
                current?._parameters.TryAdd(token, value);
                continue;
            }
            // A token not followed by '=' starts the next challenge.
            i = afterToken;
            current = new AuthChallenge(token);
            challenges.Add(current);
        }
    }

    private static string ReadToken(string text, ref int i)
    {
        var start = i;
        while (i < text.Length && IsTokenChar(text[i]))
        {
            i++;
        }
        return text[start..i];
    }

    private static string ReadQuoted(string text, ref int i)
    {
        var value = new StringBuilder();
        i++; // opening quote
        while (i < text.Length && text[i] != '"')
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                i++;
            }
            value.Append(text[i]);
            i++;
        }
        i++; // closing quote, or past the end of an unterminated string
        return value.ToString();
    }

    // RFC 9110 tchar, plus '/' so that a token68-ish unquoted realm URL still reads whole.
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~' or '/' or ':';
}
