using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace NodeCache.Core.Tests.Support;

/// <summary>
/// A registry behind distribution's token auth, as Harbor runs it: a registry server that answers 401 with a Bearer challenge
/// until it sees a token it accepts, and a token server that issues <c>token-1</c>, <c>token-2</c>, ...
/// </summary>
internal sealed class FakeHarbor : IAsyncDisposable
{
    public const string Service = "harbor-registry";
    public const string ManifestBody = """{"schemaVersion":2}""";
    public const string DeniedBody = """{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized to access repository"}]}""";

    private int _issued;

    private FakeHarbor(LoopbackServer registry, LoopbackServer tokenServer)
    {
        Registry = registry;
        TokenServer = tokenServer;
    }

    public LoopbackServer Registry { get; }

    public LoopbackServer TokenServer { get; }

    /// <summary>When set, the token server refuses requests without exactly this <c>Basic</c> Authorization.</summary>
    public string? RequiredBasic { get; set; }

    /// <summary>expires_in of issued tokens; null leaves it out.</summary>
    public int? ExpiresIn { get; set; } = 300;

    /// <summary>Name the token field <c>access_token</c> instead of <c>token</c>.</summary>
    public bool UseAccessTokenField { get; set; }

    /// <summary>Tokens the registry no longer accepts, as after a revocation.</summary>
    public ConcurrentDictionary<string, bool> Revoked { get; } = new();

    /// <summary>When false, the registry accepts no token at all (no pull permission).</summary>
    public bool AcceptsTokens { get; set; } = true;

    /// <summary>What the registry does once authorized; by default a manifest body for manifests and "blob" for blobs.</summary>
    public Func<HttpContext, Task>? Content { get; set; }

    public IReadOnlyList<ReceivedRequest> TokenRequests => TokenServer.Requests;

    /// <summary>Awaited by the token server before it answers, to hold token requests back.</summary>
    public Func<Task>? BeforeIssuing { get; set; }

    /// <summary>Called after the registry has answered a request with a challenge.</summary>
    public Action? AfterChallenge { get; set; }

    public static async Task<FakeHarbor> StartAsync()
    {
        FakeHarbor? harbor = null;
        var tokenServer = await LoopbackServer.StartAsync(context => harbor!.IssueTokenAsync(context));
        var registry = await LoopbackServer.StartAsync(context => harbor!.ServeAsync(context));
        harbor = new FakeHarbor(registry, tokenServer);
        return harbor;
    }

    /// <summary>The repository named by a /v2/NAME/manifests|blobs/REF path.</summary>
    public static string RepositoryOf(string path)
    {
        var end = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
        if (end < 0)
        {
            end = path.LastIndexOf("/blobs/", StringComparison.Ordinal);
        }
        return path["/v2/".Length..end];
    }

    public static string BasicOf(string username, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));

    public async ValueTask DisposeAsync()
    {
        await Registry.DisposeAsync();
        await TokenServer.DisposeAsync();
    }

    private async Task IssueTokenAsync(HttpContext context)
    {
        if (RequiredBasic is not null && context.Request.Headers.Authorization.ToString() != RequiredBasic)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("""{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}""");
            return;
        }
        if (BeforeIssuing is not null)
        {
            await BeforeIssuing();
        }
        var token = $"token-{Interlocked.Increment(ref _issued)}";
        var json = new StringBuilder("{");
        json.Append(UseAccessTokenField ? "\"access_token\"" : "\"token\"").Append($":\"{token}\"");
        if (ExpiresIn is { } seconds)
        {
            json.Append($",\"expires_in\":{seconds}");
        }
        json.Append(",\"issued_at\":\"2025-01-01T00:00:00Z\"}");
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json.ToString());
    }

    private async Task ServeAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization["Bearer ".Length..] : null;
        if (token is null || !AcceptsTokens || Revoked.ContainsKey(token))
        {
            var repository = RepositoryOf(context.Request.Path.Value!);
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate =
                $"Bearer realm=\"{TokenServer.BaseUri}service/token\",service=\"{Service}\",scope=\"repository:{repository}:pull\"";
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(DeniedBody);
            await context.Response.CompleteAsync();
            AfterChallenge?.Invoke();
            return;
        }
        if (Content is not null)
        {
            await Content(context);
            return;
        }
        var isManifest = context.Request.Path.Value!.Contains("/manifests/", StringComparison.Ordinal);
        context.Response.ContentType = isManifest ? "application/vnd.oci.image.manifest.v1+json" : "application/octet-stream";
        await context.Response.WriteAsync(isManifest ? ManifestBody : "blob");
    }
}
