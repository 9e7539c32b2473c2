using NodeCache.Store.Eviction;
using k8s;
using NodeCache.Agent.Configuration;
using NodeCache.Prewarm;

namespace NodeCache.Agent.Kubernetes;

/// <summary>Wires the fulfilment of cluster-wide ImagePrewarms when there is an API and a node name.</summary>
internal static class ImagePrewarmServices
{
    public static IServiceCollection AddImagePrewarms(this IServiceCollection services, AgentOptions options, IKubernetes? client)
    {
        if (client is not null && options.NodeName is not null)
        {
            services.AddHostedService(sp => new ImagePrewarmWatcher(client, options, sp.GetRequiredService<ImagePrewarm>(), sp.GetRequiredService<Pins>(), sp.GetRequiredService<ILoggerFactory>()));
        }
        return services;
    }
}
