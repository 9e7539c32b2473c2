using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>
/// A plain HTTP client for the distribution API of a registry (or of the agent), answering Bearer challenges the way
/// containerd does: fetch a token from the challenge's realm for its service and scope, with Basic credentials when
/// given, cache it per scope, and retry the request once.
/// </summary>
public sealed class DistributionClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly NetworkCredential? _credentials;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public DistributionClient(Uri baseUri, NetworkCredential? credentials = null, HttpMessageHandler? handler = null)
    {
        BaseUri = baseUri;
        _credentials = credentials;
        _http = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(5) };
    }

    public Uri BaseUri { get; }

    /// <summary>Sends the request built by <paramref name="create"/> (built again for the retry after a challenge), authorized for <paramref name="scope"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string? scope, CancellationToken cancellationToken = default)
    {
        var request = create();
        if (scope is not null && _tokens.TryGetValue(scope, out var cached))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cached);
        }
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            request.Dispose();
            return response;
        }
        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault(h => h.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
        if (challenge?.Parameter is null)
        {
            request.Dispose();
            return response;
        }
        response.Dispose();
        request.Dispose();
        var token = await FetchTokenAsync(BearerChallenge.Parse(challenge.Parameter), scope, cancellationToken);
        if (scope is not null)
        {
            _tokens[scope] = token;
        }
        var retry = create();
        retry.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _http.SendAsync(retry, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public Task<HttpResponseMessage> GetManifestAsync(string repository, string reference, string accept = MediaTypes.ManifestAccept, CancellationToken cancellationToken = default) =>
        SendManifestAsync(HttpMethod.Get, repository, reference, accept, cancellationToken);

    public Task<HttpResponseMessage> HeadManifestAsync(string repository, string reference, string accept = MediaTypes.ManifestAccept, CancellationToken cancellationToken = default) =>
        SendManifestAsync(HttpMethod.Head, repository, reference, accept, cancellationToken);

    public Task<HttpResponseMessage> GetBlobAsync(string repository, Digest digest, CancellationToken cancellationToken = default) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/blobs/{digest}"), PullScope(repository), cancellationToken);

    public Task<HttpResponseMessage> HeadBlobAsync(string repository, Digest digest, CancellationToken cancellationToken = default) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}"), PullScope(repository), cancellationToken);

    public static string PullScope(string repository) => RepositoryAccess.Scope(repository, RepositoryAccess.Pull);

    public static string PushScope(string repository) => RepositoryAccess.Scope(repository, RepositoryAccess.Pull, RepositoryAccess.Push);

    public void Dispose() => _http.Dispose();

    private Task<HttpResponseMessage> SendManifestAsync(HttpMethod method, string repository, string reference, string accept, CancellationToken cancellationToken) =>
        SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(method, $"/v2/{repository}/manifests/{reference}");
                // The registry answers a manifest request without an OCI/Docker Accept with 404.
                request.Headers.TryAddWithoutValidation("Accept", accept);
                return request;
            },
            PullScope(repository),
            cancellationToken);

    private async Task<string> FetchTokenAsync(BearerChallenge challenge, string? scope, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (challenge.Service is not null)
        {
            query.Add("service=" + Uri.EscapeDataString(challenge.Service));
        }
        // The caller's scope wins over the challenge's: a HEAD before a push is challenged for pull only, and a pull
        // token would be refused at the upload that follows.
        if ((scope ?? challenge.Scope) is { } wanted)
        {
            query.Add("scope=" + Uri.EscapeDataString(wanted));
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, challenge.Realm + (query.Count > 0 ? "?" + string.Join('&', query) : ""));
        if (_credentials is not null)
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_credentials.UserName}:{_credentials.Password}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        }
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"token endpoint {request.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}", null, response.StatusCode);
        }
        var body = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken);
        return body?.Token ?? body?.AccessToken ?? throw new HttpRequestException($"token endpoint {request.RequestUri} answered without a token");
    }

    private sealed record TokenResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("token")] string? Token,
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string? AccessToken);
}
