using NodeCache.Access;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using k8s;
using NodeCache.Agent.Configuration;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Prefetch;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Agent.Kubernetes;

/// <summary>Wires prefetch into the agent: always the lead-time bookkeeping the mirror reports to, and the watch when there is an API and a node name.</summary>
internal static class PrefetchServices
{
    public static IServiceCollection AddPrefetch(this IServiceCollection services, AgentOptions options, IKubernetes? client)
    {
        services.AddSingleton(sp => new PrefetchMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => new PrefetchLeadTimes(sp.GetRequiredService<PrefetchMetrics>(), TimeProvider.System, sp.GetRequiredService<ILogger<PrefetchLeadTimes>>()));
        var watching = client is not null && options.NodeName is not null;
        // Without the pods of the node there is nothing to verify against: a plain mirror serves as it always did.
        services.AddSingleton(sp => new PrivateImagePolicy(
            watching ? options.PrivateImages : PrivateImageMode.Serve, sp.GetRequiredService<RegistryClient>(), TimeProvider.System, sp.GetRequiredService<ILogger<PrivateImagePolicy>>(),
            sp.GetService<IManifestLenders>()));
        if (!watching)
        {
            return services;
        }
        services.AddSingleton(sp => new PrefetchPlanner(sp.GetRequiredService<ManifestResolver>(), sp.GetRequiredService<UpstreamRules>()));
        services.AddSingleton(sp => new PrefetchQueue(
            sp.GetRequiredService<PrefetchPlanner>(), sp.GetRequiredService<BlobFills>(), sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<UpstreamRules>(),
            sp.GetRequiredService<PrefetchMetrics>(), sp.GetRequiredService<PrefetchLeadTimes>(),
            new PrefetchOptions { Concurrency = options.PrefetchConcurrency, BytesPerSecond = options.PrefetchBandwidth },
            sp.GetRequiredService<ILogger<PrefetchQueue>>(), sp.GetRequiredService<PrivateImagePolicy>(), sp.GetRequiredService<PodPins>()));
        services.AddSingleton(sp => new RunningPodPins(sp.GetRequiredService<ImageBlobs>(), sp.GetRequiredService<PodPins>()));
        services.AddSingleton(client!);
        services.AddHostedService<PrefetchWatcher>();
        return services;
    }
}
