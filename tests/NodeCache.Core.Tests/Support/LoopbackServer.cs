using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NodeCache.Core.Tests.Support;

/// <summary>What a loopback server saw of one request.</summary>
internal sealed record ReceivedRequest(string Method, string Path, string Query, string? Authorization, string? Accept, string? Range, string? UserAgent)
{
    public IReadOnlyList<string> QueryValues(string name) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Query).TryGetValue(name, out var values) ? [.. values.Select(v => v ?? "")] : [];
}

/// <summary>A real Kestrel server on 127.0.0.1 and a port of its own, answering with the test's handler and recording every request.</summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _disposed;

    private LoopbackServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>host:port, as credentials are keyed.</summary>
    public string Authority => BaseUri.Authority;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    public static async Task<LoopbackServer> StartAsync(Func<HttpContext, Task> handler, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (certificate is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
        }
        var app = builder.Build();
        app.Urls.Add(certificate is null ? "http://127.0.0.1:0" : "https://127.0.0.1:0");
        LoopbackServer? server = null;
        app.Run(async context =>
        {
            var request = context.Request;
            server!._requests.Enqueue(new ReceivedRequest(
                request.Method,
                request.Path.Value ?? "",
                request.QueryString.Value ?? "",
                Header(request, "Authorization"),
                Header(request, "Accept"),
                Header(request, "Range"),
                Header(request, "User-Agent")));
            await handler(context);
        });
        await app.StartAsync();
        server = new LoopbackServer(app, new Uri(app.Urls.Single()));
        return server;
    }

    /// <summary>Stops the server; safe to call again (a test may stop a server early to make it unreachable).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var value) ? value.ToString() : null;
}
