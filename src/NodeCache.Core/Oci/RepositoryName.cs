using System.Diagnostics.CodeAnalysis;

namespace NodeCache.Oci;

/// <summary>A repository name as the distribution spec's grammar allows: <c>[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*</c>.</summary>
public sealed record RepositoryName
{
    /// <summary>The spec lets registries cap names; 255 is what the reference implementation and Harbor accept.</summary>
    public const int MaxLength = 255;

    private RepositoryName(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string text, [NotNullWhen(true)] out RepositoryName? name)
    {
        name = IsValid(text) ? new RepositoryName(text) : null;
        return name is not null;
    }

    public static RepositoryName Parse(string text) =>
        TryParse(text, out var name) ? name : throw new FormatException($"'{text}' is not a valid repository name");

    /// <summary>This name under a path prefix, as a Harbor proxy-cache project maps <c>library/nginx</c> to <c>dockerhub-proxy/library/nginx</c>.</summary>
    public RepositoryName WithPrefix(string? prefix) =>
        string.IsNullOrEmpty(prefix) ? this : new RepositoryName(prefix + "/" + Value);

    public override string ToString() => Value;

    private static bool IsValid(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > MaxLength)
        {
            return false;
        }
        foreach (var range in text.Split('/'))
        {
            if (!IsValidComponent(text[range]))
            {
                return false;
            }
        }
        return true;
    }

    // component := [a-z0-9]+ (separator [a-z0-9]+)* ; separator := "." | "_" | "__" | "-"+
    private static bool IsValidComponent(ReadOnlySpan<char> component)
    {
        if (component.IsEmpty || !IsAlphanumeric(component[0]) || !IsAlphanumeric(component[^1]))
        {
            return false;
        }
        for (var i = 1; i < component.Length; i++)
        {
            var c = component[i];
            if (IsAlphanumeric(c))
            {
                continue;
            }
            var run = component[i..];
            var separatorLength = c switch
            {
                '.' => 1,
                '_' => run.Length > 1 && run[1] == '_' ? 2 : 1,
                '-' => CountLeading(run, '-'),
                _ => 0,
            };
            if (separatorLength == 0 || !IsAlphanumeric(component[i + separatorLength]))
            {
                return false;
            }
            i += separatorLength - 1;
        }
        return true;
    }

    private static int CountLeading(ReadOnlySpan<char> text, char c)
    {
        var n = 0;
        while (n < text.Length && text[n] == c)
        {
            n++;
        }
        return n;
    }

    private static bool IsAlphanumeric(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
