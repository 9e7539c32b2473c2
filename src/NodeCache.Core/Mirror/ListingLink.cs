using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Mirror;

/// <summary>
/// An upstream's <c>Link: &lt;/v2/...?n=..&amp;last=..&gt;; rel="next"</c> made into the mirror's: the same page of the
/// same listing, under the repository name the client used (a Harbor project prefix taken off) and never naming the
/// upstream's host, so the client's next request comes back to the mirror.
/// </summary>
public static class ListingLink
{
    /// <summary>The next page as a path and query under the mirror's <c>/v2/</c>; null when there is none or it is not a page of this listing.</summary>
    public static string? Rewrite(string? header, UpstreamEndpoint endpoint, RepositoryName repository)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(repository);
        if (header is null)
        {
            return null;
        }
        var open = header.IndexOf('<', StringComparison.Ordinal);
        var close = header.IndexOf('>', StringComparison.Ordinal);
        if (open < 0 || close < open || !header[(close + 1)..].Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (!Uri.TryCreate(endpoint.BaseUri, header[(open + 1)..close].Trim(), out var target))
        {
            return null;
        }
        var upstreamName = $"/v2/{repository.WithPrefix(endpoint.PathPrefix)}/";
        var path = target.AbsolutePath;
        if (!path.StartsWith(upstreamName, StringComparison.Ordinal))
        {
            return null;
        }
        var resource = path[upstreamName.Length..];
        if (resource != "tags/list" && !(resource.StartsWith("referrers/", StringComparison.Ordinal) && Digest.LooksLikeDigest(resource)))
        {
            return null;
        }
        return $"/v2/{repository}/{resource}{target.Query}";
    }

    /// <summary>The header for the mirror's answer: the page's path with <c>ns</c> added when the client sent one.</summary>
    public static string Header(string next, string? ns)
    {
        ArgumentNullException.ThrowIfNull(next);
        var withNs = string.IsNullOrEmpty(ns) ? next : $"{next}{(next.Contains('?', StringComparison.Ordinal) ? '&' : '?')}ns={Uri.EscapeDataString(ns)}";
        return $"<{withNs}>; rel=\"next\"";
    }
}
