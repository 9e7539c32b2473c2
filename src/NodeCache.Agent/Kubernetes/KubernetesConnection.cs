using k8s;
using NodeCache.Agent.Configuration;

namespace NodeCache.Agent.Kubernetes;

/// <summary>The Kubernetes API client the options ask for: <c>--kubeconfig</c>, else in-cluster, else none (prefetch off).</summary>
internal static class KubernetesConnection
{
    /// <summary>A client, or null when there is no API to talk to. Throws <see cref="FormatException"/> for an unusable kubeconfig.</summary>
    public static IKubernetes? Create(AgentOptions options, Func<string, string?> environment)
    {
        KubernetesClientConfiguration configuration;
        try
        {
            if (options.Kubeconfig is { } file)
            {
                configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(file);
            }
            else if (!string.IsNullOrEmpty(environment("KUBERNETES_SERVICE_HOST")))
            {
                configuration = KubernetesClientConfiguration.InClusterConfig();
            }
            else
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--kubeconfig: {ex.Message}");
        }
        // A watch is a long poll: the client's default timeout of 100 s would cut every one short.
        configuration.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        return new k8s.Kubernetes(configuration);
    }
}
