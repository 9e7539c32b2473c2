using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace NodeCache.Agent.Registry;

/// <summary>An HTTP/1.1 reason phrase that carries a message: the standard phrase, then the message in printable ASCII.</summary>
internal static class ReasonPhrase
{
    // A status line is no place for a page of text; Harbor's policy messages fit in well under this.
    private const int MaxLength = 300;

    public static string With(int status, string message)
    {
        var text = new StringBuilder(ReasonPhrases.GetReasonPhrase(status));
        if (text.Length > 0)
        {
            text.Append(": ");
        }
        foreach (var c in message)
        {
            if (text.Length >= MaxLength)
            {
                break;
            }
            // CR, LF and other control or non-ASCII characters would end or corrupt the status line.
            text.Append(c is >= ' ' and <= '~' ? c : c is '\t' or '\n' or '\r' ? ' ' : '?');
        }
        return text.ToString();
    }
}
