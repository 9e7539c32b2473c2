namespace NodeCache.Oci;

/// <summary>The spec's tag grammar: <c>[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}</c>.</summary>
public static class Tag
{
    public const int MaxLength = 128;

    public static bool IsValid(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > MaxLength || !(char.IsAsciiLetterOrDigit(text[0]) || text[0] == '_'))
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }
        return true;
    }
}
