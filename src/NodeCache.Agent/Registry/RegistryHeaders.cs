using NodeCache.Oci;

namespace NodeCache.Agent.Registry;

/// <summary>The headers containerd needs to trust an answer without hashing it again.</summary>
internal static class RegistryHeaders
{
    public const string ApiVersion = "Docker-Distribution-API-Version";
    public const string ContentDigest = "Docker-Content-Digest";

    public static void SetContent(HttpResponse response, Digest digest, string mediaType, long length)
    {
        var text = digest.ToString();
        response.ContentType = mediaType;
        response.ContentLength = length;
        response.Headers[ContentDigest] = text;
        response.Headers.ETag = $"\"{text}\"";
    }

    public static bool MatchesETag(HttpRequest request, Digest digest) =>
        request.Headers.IfNoneMatch.Any(value => value is not null && value.Contains(digest.ToString(), StringComparison.Ordinal));
}
