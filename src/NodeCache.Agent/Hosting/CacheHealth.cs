using Microsoft.AspNetCore.Server.Kestrel.Core;
using NodeCache.Agent.Configuration;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using NodeCache.Store.Index;
using NodeCache.Telemetry;

namespace NodeCache.Agent.Hosting;

/// <summary>Wires what keeps a node's cache healthy: quota and eviction, pins (an operator's and the pods'), scrub, disk space, their metrics, and shutdown and request limits.</summary>
internal static class CacheHealth
{
    public static IServiceCollection AddCacheHealth(this IServiceCollection services, AgentOptions options)
    {
        services.AddSingleton(sp => new DiskSpace(sp.GetRequiredService<CacheLayout>().Root, options.DiskReserve, sp.GetRequiredService<ILogger<DiskSpace>>()));
        services.AddSingleton(sp => Pins.Load(sp.GetRequiredService<CacheLayout>().Root, sp.GetRequiredService<ILogger<Pins>>()));
        services.AddSingleton<PodPins>();
        services.AddSingleton(sp => new ImageBlobs(sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<TagIndex>()));
        services.AddSingleton(sp =>
        {
            var root = sp.GetRequiredService<CacheLayout>().Root;
            return new CacheQuota(() => options.CacheSize.Resolve(new DriveInfo(root).TotalSize), options.HighWatermark, options.LowWatermark);
        });
        services.AddSingleton(sp => new BlobEviction(
            sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<BlobIndex>(), sp.GetRequiredService<CacheQuota>(), sp.GetRequiredService<Pins>(),
            sp.GetRequiredService<ImageBlobs>(), sp.GetRequiredService<PodPins>(), sp.GetRequiredService<ILogger<BlobEviction>>()));
        services.AddSingleton(sp => new BlobScrub(sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<BlobIndex>(), sp.GetRequiredService<ILogger<BlobScrub>>()));
        services.AddSingleton<CacheMetrics>();
        services.AddSingleton<ShutdownDrain>();
        services.AddHostedService<EvictionLoop>();
        services.AddHostedService<ScrubLoop>();
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            // A registry request is a short line and a few headers; anything far bigger is a mistake or an attack.
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            // A client that trickles its request head is cut off rather than holding a connection.
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        });
        return services;
    }

    /// <summary>Brings index and files into agreement before the first request (see <see cref="CacheRecovery"/>).</summary>
    public static RecoveryReport RecoverCache(this IServiceProvider services) => CacheRecovery.Run(
        services.GetRequiredService<CacheLayout>(), services.GetRequiredService<BlobStore>(), services.GetRequiredService<BlobIndex>(),
        services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CacheRecovery)));
}
