using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace NodeCache.Upstream;

/// <summary>Which redirects are followed, and where the registry's Authorization may go.</summary>
internal static class RedirectPolicy
{
    /// <summary>A registry redirects once to object storage, and a CDN may add a hop; more than this is a loop.</summary>
    public const int MaxHops = 5;

    /// <summary>The next URL when the response is a redirect to http(s) with a Location; the method stays (we only send GET and HEAD).</summary>
    public static bool TryGetTarget(HttpResponseMessage response, Uri current, [NotNullWhen(true)] out Uri? target)
    {
        target = null;
        if (response.StatusCode is not (HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect))
        {
            return false;
        }
        if (response.Headers.Location is not { } location)
        {
            return false;
        }
        target = location.IsAbsoluteUri ? location : new Uri(current, location);
        return target.Scheme is "http" or "https";
    }

    /// <summary>Same scheme, host and port: only there does the registry's Authorization belong (object storage has its own, in the URL).</summary>
    public static bool SameOrigin(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
