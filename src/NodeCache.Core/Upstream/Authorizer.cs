using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace NodeCache.Upstream;

/// <summary>The Authorization to send to a registry: remembers each registry's challenge, answers new ones with credentials or tokens.</summary>
internal sealed class Authorizer(CredentialStore credentials, TokenCache tokens, TokenClient tokenClient, ILogger logger)
{
    // Per registry origin, the last challenge it gave: lets later requests carry a cached token or credentials
    // up front instead of being refused first.
    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.OrdinalIgnoreCase);

    private readonly ConcurrentDictionary<TokenKey, Lazy<Task<(Token?, UpstreamFailure)>>> _fetching = new();

    /// <summary>The pull scope of a repository as it is named upstream (with any proxy-cache prefix).</summary>
    public static string PullScope(string repository) => $"repository:{repository}:pull";

    /// <summary>What to send without being asked: a cached token or the Basic credentials the registry asked for before; null when nothing is known.</summary>
    public AuthenticationHeaderValue? Known(UpstreamEndpoint endpoint, string scope, PullIdentity? identity = null)
    {
        if (!_challenges.TryGetValue(Origin(endpoint), out var challenge))
        {
            return null;
        }
        if (challenge.IsBasic)
        {
            return Credential(endpoint, identity) is { } credential ? credential.ToBasicAuthorization() : null;
        }
        return tokens.TryGet(Key(challenge, scope, identity), out var token) ? new AuthenticationHeaderValue("Bearer", token) : null;
    }

    /// <summary>
    /// Answers a 401's challenge. A Bearer token that was refused is dropped and one new token is fetched; credentials that
    /// were refused are not sent again. Null Authorization with a failure when there is nothing (more) to try.
    /// </summary>
    public async Task<(AuthenticationHeaderValue? Authorization, UpstreamFailure Failure)> AnswerAsync(
        UpstreamEndpoint endpoint, IEnumerable<string> challengeHeaders, string scope, AuthenticationHeaderValue? sent, PullIdentity? identity, CancellationToken cancellationToken)
    {
        var host = endpoint.BaseUri.Authority;
        var challenge = AuthChallenge.Select(challengeHeaders);
        if (challenge is null)
        {
            return Refused($"{host} answered 401 without a Bearer or Basic challenge");
        }
        _challenges[Origin(endpoint)] = challenge;
        var known = Credential(endpoint, identity);
        var hasCredential = known is not null;
        var credential = known.GetValueOrDefault();

        if (challenge.IsBasic)
        {
            if (!hasCredential)
            {
                return Refused($"{host} asks for Basic credentials and none are configured for it");
            }
            if (sent?.Scheme == "Basic")
            {
                return Refused($"{host} refused the credentials configured for it");
            }
            return (credential.ToBasicAuthorization(), default);
        }

        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || realm.Scheme is not ("http" or "https"))
        {
            return Refused($"{host} names a token realm that is not an http(s) URL");
        }
        var key = Key(challenge, scope, identity);
        if (sent?.Scheme == "Bearer" && sent.Parameter is { } refused)
        {
            tokens.Drop(key, refused);
        }
        if (tokens.TryGet(key, out var cached))
        {
            // Fetched by a concurrent request since this one was sent.
            return (new AuthenticationHeaderValue("Bearer", cached), default);
        }

        // Credentials go over TLS only, unless the registry itself is plain HTTP (a lab setup, where they already travel in clear).
        RegistryCredential? asked = hasCredential && (realm.Scheme == "https" || endpoint.BaseUri.Scheme == "http") ? credential : null;
        if (hasCredential && asked is null)
        {
            logger.LogWarning("Not sending the credentials for {Host} to the plain-HTTP token realm {Realm}; asking anonymously", host, SafeText.Url(realm));
        }
        var scopes = challenge.Scopes.Contains(scope) ? challenge.Scopes : [scope, .. challenge.Scopes];
        var (token, failure) = await FetchOnceAsync(key, realm, challenge.Service, scopes, asked, cancellationToken);
        return token is null ? (null, failure) : (new AuthenticationHeaderValue("Bearer", token.Value), default);
    }

    /// <summary>
    /// One token request per key at a time: pods starting together on a node miss together, and every one of their
    /// requests would otherwise ask the token server for the same token.
    /// </summary>
    private async Task<(Token? Token, UpstreamFailure Failure)> FetchOnceAsync(
        TokenKey key, Uri realm, string? service, IReadOnlyList<string> scopes, RegistryCredential? identity, CancellationToken cancellationToken)
    {
        Lazy<Task<(Token?, UpstreamFailure)>>? mine = null;
        mine = new Lazy<Task<(Token?, UpstreamFailure)>>(async () =>
        {
            try
            {
                // Not the caller's token: the others waiting on this fetch must not fail because the first one gave up.
                // HttpClient's connect and response timeouts bound it.
                var (token, failure) = await tokenClient.RequestAsync(realm, service, scopes, identity, CancellationToken.None);
                if (token is not null)
                {
                    tokens.Store(key, token.Value, token.RequestedAt, token.Lifetime);
                }
                return (token, failure);
            }
            finally
            {
                _fetching.TryRemove(new KeyValuePair<TokenKey, Lazy<Task<(Token?, UpstreamFailure)>>>(key, mine!));
            }
        });
        return await _fetching.GetOrAdd(key, mine).Value.WaitAsync(cancellationToken);
    }

    // Keyed by the scope this request needs rather than the challenge's exact scope list, so that the lookup in Known,
    // made before any challenge for this repository was seen, finds it.
    private static TokenKey Key(AuthChallenge challenge, string scope, PullIdentity? identity) =>
        new(challenge.Realm ?? "", challenge.Service ?? "", scope, identity?.Key ?? "");

    // A request's own identity (a pod's pull secret, or nobody) replaces the agent's credentials for the host.
    private RegistryCredential? Credential(UpstreamEndpoint endpoint, PullIdentity? identity) =>
        identity is not null ? identity.Credential
        : credentials.TryGet(endpoint.BaseUri.Authority, out var credential) ? credential : null;

    private static string Origin(UpstreamEndpoint endpoint) => endpoint.BaseUri.GetLeftPart(UriPartial.Authority);

    private static (AuthenticationHeaderValue?, UpstreamFailure) Refused(string reason) =>
        (null, new UpstreamFailure(UpstreamOutcome.Denied, System.Net.HttpStatusCode.Unauthorized, reason));
}
