namespace NodeCache.Upstream;

/// <summary>Forms of URLs and messages fit for logs and failure reasons.</summary>
internal static class SafeText
{
    /// <summary>Scheme, host, port and path only: the query of a presigned storage URL is a credential, and userinfo is one too.</summary>
    public static string Url(Uri uri) =>
        uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>An exception's message and its inner ones', on one line: TLS and socket failures say why only in an inner one.</summary>
    public static string Message(Exception exception)
    {
        var text = exception.Message;
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            // Cancellations nest several times with the same words; they add nothing to the outer message.
            if (inner is not OperationCanceledException && !text.Contains(inner.Message, StringComparison.Ordinal))
            {
                text += " ← " + inner.Message;
            }
        }
        return text.ReplaceLineEndings(" ");
    }
}
