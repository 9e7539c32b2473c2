using System.Globalization;
using NodeCache.Oci;

namespace NodeCache.Peers;

/// <summary>
/// The peer API's paths, query parameters and headers. The paths are the registry API's own (<c>/v2/&lt;repository&gt;/blobs/&lt;digest&gt;?ns=</c>),
/// on a listener of its own, so that an owner knows which registry and repository to fetch a blob from; manifests are
/// asked for only while the upstream cannot answer.
/// </summary>
public static class PeerPaths
{
    /// <summary>The members the requester already asked, which could not serve it: the receiver may be the owner after them.</summary>
    public const string TriedParameter = "tried";

    /// <summary>Set on a redirect's target: the request was sent here by another agent, which will serve it itself if this one cannot.</summary>
    public const string RedirectedParameter = "redirected";

    /// <summary>Set when a redirect led nowhere: the agent asked serves the request itself rather than redirecting it again.</summary>
    public const string DirectParameter = "direct";

    /// <summary>Set while the upstream cannot answer: the agent asked answers only from what it holds or receives, and fetches nothing.</summary>
    public const string HeldParameter = "held";

    /// <summary>Answer headers of a manifest lent while the upstream cannot answer: when the lender's copy was named for the tag (Unix seconds).</summary>
    public const string FetchedAtHeader = "X-NodeCache-Fetched-At";

    /// <summary>Set on an answer that passes on the upstream's denial the lender holds, with the OCI error code as its value.</summary>
    public const string DeniedHeader = "X-NodeCache-Denied";

    /// <summary>Set (to <c>public</c>) when the lender last found the repository public: the upstream answered an anonymous request.</summary>
    public const string RepositoryHeader = "X-NodeCache-Repository";

    public static string Blob(string registry, RepositoryName repository, Digest digest, IReadOnlyCollection<string> tried, bool direct, bool heldOnly = false)
    {
        var path = $"/v2/{repository}/blobs/{digest}?ns={Uri.EscapeDataString(registry)}";
        if (tried.Count > 0)
        {
            path += $"&{TriedParameter}={Uri.EscapeDataString(string.Join(',', tried))}";
        }
        if (heldOnly)
        {
            path += $"&{HeldParameter}=1";
        }
        return direct ? path + $"&{DirectParameter}=1" : path;
    }

    public static string Manifest(string registry, RepositoryName repository, string reference) =>
        $"/v2/{repository}/manifests/{reference}?ns={Uri.EscapeDataString(registry)}";

    /// <summary>The same blob on another agent, for a redirect: marked so that its receiver knows it may answer 404 at once.</summary>
    public static string Redirect(string memberId, string registry, RepositoryName repository, Digest digest) =>
        string.Create(CultureInfo.InvariantCulture, $"{memberId}/v2/{repository}/blobs/{digest}?ns={Uri.EscapeDataString(registry)}&{RedirectedParameter}=1");
}
