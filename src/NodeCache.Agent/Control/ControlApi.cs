using Microsoft.AspNetCore.Server.Kestrel.Core;
using NodeCache.Agent.Configuration;
using NodeCache.Control;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Prefetch;
using NodeCache.Prewarm;
using NodeCache.Pulls;
using NodeCache.Store.Blobs;
using NodeCache.Store.Images;
using NodeCache.Store.Index;
using NodeCache.Upstream;

namespace NodeCache.Agent.Control;

/// <summary>
/// Wires the control API: gRPC on its own HTTP/2 endpoints (a Unix socket, and a TCP address when asked), apart from
/// the registry listeners, which speak HTTP/1.1; and the pull tracking that both the registry API and WatchPulls use.
/// </summary>
internal static class ControlApi
{
    public static void AddControlApi(this WebApplicationBuilder builder, AgentOptions options)
    {
        var socket = SocketPath(options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            PrepareSocket(socket);
            kestrel.ListenUnixSocket(socket, endpoint => endpoint.Protocols = HttpProtocols.Http2);
            if (options.ControlListen is { } listen)
            {
                kestrel.Listen(ListenAddress.Parse(listen), endpoint => endpoint.Protocols = HttpProtocols.Http2);
            }
        });
        var services = builder.Services;
        services.AddGrpc();
        services.AddSingleton<PullMetrics>();
        services.AddSingleton(sp => new PullTracker(sp.GetRequiredService<PullMetrics>(), TimeProvider.System));
        services.AddSingleton(sp => new ImagePrewarm(
            sp.GetRequiredService<UpstreamRules>(), new PrefetchPlanner(sp.GetRequiredService<ManifestResolver>(), sp.GetRequiredService<UpstreamRules>()),
            sp.GetRequiredService<BlobFills>(), sp.GetRequiredService<BlobStore>()));
        services.AddSingleton(sp => new CachedImages(sp.GetRequiredService<TagIndex>(), sp.GetRequiredService<BlobIndex>(), sp.GetRequiredService<CacheLayout>()));
        services.AddSingleton<CacheEdits>();
        services.AddImageArchives();
        services.AddHostedService(sp => new ControlSocketPermissions(socket, sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<ControlSocketPermissions>>()));
    }

    public static void MapControlApi(this WebApplication app) => app.MapGrpcService<ControlService>();

    public static string SocketPath(AgentOptions options) => options.ControlSocket ?? DefaultPaths.ControlSocket(options.CacheDir);

    // A socket file left by an agent that was killed would make the bind fail; nothing else listens on our path.
    private static void PrepareSocket(string socket)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(socket))!);
        if (File.Exists(socket))
        {
            File.Delete(socket);
        }
    }
}
