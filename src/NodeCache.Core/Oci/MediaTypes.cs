namespace NodeCache.Oci;

/// <summary>The manifest media types a mirror negotiates, and the Accept header containerd sends for them.</summary>
public static class MediaTypes
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OctetStream = "application/octet-stream";

    /// <summary>What containerd's resolver sends; used upstream when the client sent no Accept of its own.</summary>
    public const string ManifestAccept = DockerManifest + ", " + DockerManifestList + ", " + OciManifest + ", " + OciIndex + ", */*";

    /// <summary>Manifests larger than this are refused: the distribution registry caps them at 4 MiB too.</summary>
    public const int MaxManifestSize = 4 * 1024 * 1024;

    public static bool IsIndex(string mediaType) => mediaType is DockerManifestList or OciIndex;

    public static bool IsManifest(string mediaType) => mediaType is DockerManifest or DockerManifestList or OciManifest or OciIndex;

    /// <summary>True when an Accept header admits the media type (an absent header, <c>*/*</c> or <c>application/*</c> admit all).</summary>
    public static bool IsAccepted(string? accept, string mediaType)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return true;
        }
        foreach (var range in accept.AsSpan().Split(','))
        {
            var item = accept.AsSpan()[range];
            var semicolon = item.IndexOf(';');
            if (semicolon >= 0)
            {
                item = item[..semicolon];
            }
            item = item.Trim();
            if (item.Equals(mediaType, StringComparison.OrdinalIgnoreCase) || item is "*/*" || item is "application/*")
            {
                return true;
            }
        }
        return false;
    }
}
