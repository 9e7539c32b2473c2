using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace NodeCache.Upstream;

/// <summary>A bearer token and how long it lives, counted from when we asked for it.</summary>
internal sealed record Token(string Value, DateTimeOffset RequestedAt, TimeSpan Lifetime);

/// <summary>Asks a token server (the challenge's realm) for a bearer token, as distribution's token auth spec describes.</summary>
internal sealed class TokenClient(HttpClient http, TimeSpan responseTimeout, TimeProvider time, ILogger logger)
{
    /// <summary>JWTs with access claims take a few KiB; the cap only stops a runaway body.</summary>
    private const int MaxResponseSize = 256 * 1024;

    /// <summary>The spec's lifetime when the server gives no expires_in.</summary>
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(60);

    /// <summary>GET realm?service=S&amp;scope=A&amp;scope=B, with Basic credentials when there are some, anonymously otherwise.</summary>
    public async Task<(Token? Token, UpstreamFailure Failure)> RequestAsync(
        Uri realm, string? service, IReadOnlyList<string> scopes, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        var uri = TokenUri(realm, service, scopes);
        var realmText = SafeText.Url(realm);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (credential is { } c)
        {
            request.Headers.Authorization = c.ToBasicAuthorization();
        }
        var requestedAt = time.GetUtcNow();
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception e) when (UpstreamFailure.IsNoAnswer(e, cancellationToken))
        {
            return (null, new UpstreamFailure(UpstreamOutcome.Unreachable, null, $"token server {realmText}: {SafeText.Message(e)}"));
        }
        using (response)
        {
            var status = response.StatusCode;
            logger.LogDebug("Token request to {Realm} for {Scopes} as {Identity}: {Status}",
                realmText, string.Join(' ', scopes), credential is { } who ? who.Username : "anonymous", (int)status);
            if (!response.IsSuccessStatusCode)
            {
                var outcome = status switch
                {
                    HttpStatusCode.TooManyRequests => UpstreamOutcome.TooManyRequests,
                    >= HttpStatusCode.InternalServerError => UpstreamOutcome.ServerError,
                    // Any other refusal by the token server (401, 403, 400 for a scope it rejects) means we may not pull.
                    _ => UpstreamOutcome.Denied,
                };
                return (null, new UpstreamFailure(outcome, status, $"token server {realmText} answered {(int)status}"));
            }
            byte[] body;
            bool complete;
            try
            {
                (body, complete) = await BoundedBody.ReadAsync(response.Content, MaxResponseSize, responseTimeout, cancellationToken);
            }
            catch (Exception e) when (UpstreamFailure.IsNoAnswer(e, cancellationToken))
            {
                return (null, new UpstreamFailure(UpstreamOutcome.Unreachable, status, $"token server {realmText}: {SafeText.Message(e)}"));
            }
            if (!complete || !TryReadToken(body, out var value, out var lifetime))
            {
                return (null, new UpstreamFailure(UpstreamOutcome.ServerError, status, $"token server {realmText} gave no usable token"));
            }
            return (new Token(value, requestedAt, lifetime), default);
        }
    }

    private static Uri TokenUri(Uri realm, string? service, IReadOnlyList<string> scopes)
    {
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] : "");
        if (!string.IsNullOrEmpty(service))
        {
            Append(query, "service", service);
        }
        // One scope parameter per scope, as the spec's examples do; the space-joined form is not understood by every server.
        foreach (var scope in scopes)
        {
            Append(query, "scope", scope);
        }
        return new UriBuilder(realm) { Query = query.ToString() }.Uri;
    }

    private static void Append(StringBuilder query, string name, string value)
    {
        if (query.Length > 0)
        {
            query.Append('&');
        }
        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    // `token` is the spec's field and `access_token` its OAuth2-compatible alias; servers may send either or both.
    private static bool TryReadToken(byte[] body, out string token, out TimeSpan lifetime)
    {
        token = "";
        lifetime = DefaultLifetime;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            foreach (var name in (ReadOnlySpan<string>)["token", "access_token"])
            {
                if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
                {
                    token = text;
                    break;
                }
            }
            if (root.TryGetProperty("expires_in", out var expiresIn) && expiresIn.ValueKind == JsonValueKind.Number
                && expiresIn.TryGetInt64(out var seconds) && seconds > 0)
            {
                // Capped so that a server's nonsense (years) cannot pin a token that may have been revoked long since.
                lifetime = TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.FromDays(1).TotalSeconds));
            }
            return token.Length > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
