using System.Text.Json;
using System.Text.RegularExpressions;
using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>What the distribution API route of a request was.</summary>
public enum RegistryRoute
{
    Other,
    Base,
    Manifest,
    Blob,
    BlobUpload,
    Tags,
}

/// <summary>
/// One request the registry answered, read back from its JSON log (<c>http.request.method</c>,
/// <c>http.request.uri</c>, <c>http.response.status</c>; a 401 from token auth is logged without a status), with the
/// body bytes it wrote (<c>http.response.written</c>) and the client's address and user agent.
/// </summary>
public sealed partial record RegistryRequest(string Method, string Uri, int Status, DateTimeOffset At, long Written = 0, string? RemoteAddress = null, string? UserAgent = null)
{
    public string Path => Uri.Split('?', 2)[0];

    public bool Succeeded => Status is >= 200 and < 300;

    public RegistryRoute Route => Parts().Route;

    /// <summary>The repository named in the path, or null for <c>/v2/</c> and routes that name none.</summary>
    public string? Repository => Parts().Repository;

    /// <summary>A manifest's tag or digest, or a blob's digest.</summary>
    public string? Reference => Parts().Reference;

    public bool IsBlob(Digest digest) => Route == RegistryRoute.Blob && Reference == digest.ToString();

    /// <summary>The request in a registry log line, or null for lines that record no completed request (startup, warnings).</summary>
    public static RegistryRequest? FromLogLine(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (!root.TryGetProperty("http.request.method", out var method) || !root.TryGetProperty("http.request.uri", out var uri))
            {
                return null;
            }
            int code;
            if (root.TryGetProperty("http.response.status", out var status) && status.ValueKind == JsonValueKind.Number)
            {
                code = status.GetInt32();
            }
            else if (root.TryGetProperty("msg", out var message) && message.GetString()?.StartsWith("error authorizing context", StringComparison.Ordinal) == true)
            {
                // A request refused by token auth is logged only as this warning, before the 401 goes out.
                code = 401;
            }
            else
            {
                return null;
            }
            var at = root.TryGetProperty("time", out var time) && time.TryGetDateTimeOffset(out var parsed) ? parsed : DateTimeOffset.UtcNow;
            var written = root.TryGetProperty("http.response.written", out var bytes) && bytes.ValueKind == JsonValueKind.Number ? bytes.GetInt64() : 0;
            // host:port of the client's connection; the host alone is what tells one machine from another.
            var remote = root.TryGetProperty("http.request.remoteaddr", out var address) && address.GetString() is { } hostPort
                ? (hostPort.LastIndexOf(':') is > 0 and var colon ? hostPort[..colon] : hostPort)
                : null;
            var agent = root.TryGetProperty("http.request.useragent", out var userAgent) ? userAgent.GetString() : null;
            return new RegistryRequest(method.GetString()!, uri.GetString()!, code, at, written, remote, agent);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public override string ToString() => $"{Method} {Uri} -> {Status}";

    private (RegistryRoute Route, string? Repository, string? Reference) Parts()
    {
        var path = Path;
        if (path is "/v2/" or "/v2")
        {
            return (RegistryRoute.Base, null, null);
        }
        var upload = UploadRoute().Match(path);
        if (upload.Success)
        {
            return (RegistryRoute.BlobUpload, upload.Groups["name"].Value, null);
        }
        var match = ContentRoute().Match(path);
        if (!match.Success)
        {
            return (RegistryRoute.Other, null, null);
        }
        var route = match.Groups["kind"].Value switch
        {
            "manifests" => RegistryRoute.Manifest,
            "blobs" => RegistryRoute.Blob,
            _ => RegistryRoute.Tags,
        };
        return (route, match.Groups["name"].Value, route == RegistryRoute.Tags ? null : match.Groups["ref"].Value);
    }

    [GeneratedRegex("^/v2/(?<name>.+)/blobs/uploads(/.*)?$")]
    private static partial Regex UploadRoute();

    [GeneratedRegex("^/v2/(?<name>.+)/(?<kind>manifests|blobs|tags)/(?<ref>[^/]+)$")]
    private static partial Regex ContentRoute();
}
