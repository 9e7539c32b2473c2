using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeCache.Testing;

/// <summary>
/// The docker token endpoint (<c>GET /token?service=..&amp;scope=..</c>, optional Basic auth) that a token-auth
/// registry sends clients to, in-process on 127.0.0.1. Every request is recorded so tests can assert that the token
/// flow happened, under which user, and that a client reused its token instead of asking again.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    public const string DefaultService = "nodecache-test-registry";
    public const string DefaultIssuer = "nodecache-test-token-issuer";

    private readonly WebApplication _app;
    private readonly RegistryTokenSigner _signer;
    private readonly AccessPolicy _policy;
    private readonly TempFolder _folder;
    private readonly Lock _gate = new();
    private readonly List<TokenRequest> _requests = [];

    private TokenServer(WebApplication app, RegistryTokenSigner signer, AccessPolicy policy, TempFolder folder, string service)
    {
        _app = app;
        _signer = signer;
        _policy = policy;
        _folder = folder;
        Service = service;
        RootCertBundlePath = folder.Combine("token-signer.pem");
        File.WriteAllText(RootCertBundlePath, signer.CertificatePem);
    }

    /// <summary>The <c>auth.token.realm</c>: where clients are sent for tokens.</summary>
    public Uri Realm { get; private set; } = null!;

    public Uri BaseUri { get; private set; } = null!;

    public string Service { get; }

    public string Issuer => _signer.Issuer;

    /// <summary>PEM of the certificate tokens are signed with, for <c>auth.token.rootcertbundle</c>.</summary>
    public string RootCertBundlePath { get; }

    /// <summary>What <c>expires_in</c> announces, and how long tokens stay valid. Tests of token refresh shorten it.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A user with pull and push on every repository, added to the policy at start, so fixtures can seed images
    /// without each test granting push to someone. Its token requests are recorded like any other.
    /// </summary>
    public NetworkCredential Admin { get; } = new("nodecache-admin", Guid.NewGuid().ToString("N"));

    public static async Task<TokenServer> StartAsync(AccessPolicy policy, string service = DefaultService, string issuer = DefaultIssuer)
    {
        var folder = TempFolder.Create("token");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new TokenServer(app, new RegistryTokenSigner(issuer), policy, folder, service);
        policy.WithUser(server.Admin.UserName, server.Admin.Password).Grant(server.Admin.UserName, "*", RepositoryAccess.Pull, RepositoryAccess.Push);
        app.MapGet("/token", server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseUri = new Uri(address);
        server.Realm = new Uri(server.BaseUri, "/token");
        return server;
    }

    public int RequestCount
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count;
            }
        }
    }

    public IReadOnlyList<TokenRequest> Requests()
    {
        lock (_gate)
        {
            return [.. _requests];
        }
    }

    /// <summary>Requests that asked for this exact scope (e.g. <c>repository:library/app:pull</c>), optionally only those by one user.</summary>
    public int CountRequests(string scope, string? user = null) =>
        Requests().Count(r => r.Scopes.Contains(scope) && (user is null || r.User == user));

    /// <summary>A token as the endpoint would issue it, for tests that talk to the registry directly.</summary>
    public string IssueToken(string? user, params RepositoryAccess[] access) => _signer.Sign(user, Service, access, TokenLifetime);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _signer.Dispose();
        _folder.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var scopes = query["scope"].SelectMany(s => (s ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var service = query["service"].FirstOrDefault();
        var (user, password) = ReadBasic(context.Request.Headers.Authorization.FirstOrDefault());
        if (user is not null && !_policy.Authenticates(user, password ?? ""))
        {
            Record(user, service, scopes, [], StatusCodes.Status401Unauthorized);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\"";
            await context.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "UNAUTHORIZED", message = "invalid username or password" } } });
            return;
        }
        var granted = new List<RepositoryAccess>();
        foreach (var scope in scopes)
        {
            var requested = RepositoryAccess.ParseScope(scope);
            if (requested is null || requested.Type != "repository")
            {
                continue;
            }
            var allowed = _policy.Allowed(user, requested.Name, requested.Actions);
            if (allowed.Count > 0)
            {
                granted.Add(requested with { Actions = allowed });
            }
        }
        var lifetime = TokenLifetime;
        var token = _signer.Sign(user, service ?? Service, granted, lifetime);
        Record(user, service, scopes, granted, StatusCodes.Status200OK);
        await context.Response.WriteAsJsonAsync(new
        {
            token,
            access_token = token,
            expires_in = (int)lifetime.TotalSeconds,
            issued_at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        });
    }

    private void Record(string? user, string? service, List<string> scopes, List<RepositoryAccess> granted, int status)
    {
        lock (_gate)
        {
            _requests.Add(new TokenRequest(DateTimeOffset.UtcNow, user, service, scopes, granted, status));
        }
    }

    private static (string? User, string? Password) ReadBasic(string? authorization)
    {
        if (authorization is null || !AuthenticationHeaderValue.TryParse(authorization, out var header)
            || !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return (null, null);
        }
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        var colon = decoded.IndexOf(':');
        return colon < 0 ? (decoded, null) : (decoded[..colon], decoded[(colon + 1)..]);
    }
}
