namespace NodeCache.Upstream;

/// <summary>One upstream registry endpoint: base URL and an optional repository path prefix (a Harbor proxy-cache project).</summary>
public sealed record UpstreamEndpoint(Uri BaseUri, string? PathPrefix)
{
    public override string ToString() => PathPrefix is null ? BaseUri.ToString() : $"{BaseUri}{PathPrefix}";
}
