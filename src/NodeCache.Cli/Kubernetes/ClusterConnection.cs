using k8s;

namespace NodeCache.Cli.Kubernetes;

/// <summary>The Kubernetes API client for cluster-wide commands: <c>--kubeconfig</c>, else <c>$KUBECONFIG</c>, else <c>~/.kube/config</c>, else in-cluster.</summary>
internal static class ClusterConnection
{
    public static IKubernetes Open(string? kubeconfig)
    {
        KubernetesClientConfiguration configuration;
        try
        {
            configuration = kubeconfig is not null
                ? KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)
                : KubernetesClientConfiguration.BuildDefaultConfig();
        }
        catch (Exception ex) when (ex is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException)
        {
            throw new CliFailure(ExitCode.ClusterUnavailable, $"no usable kubeconfig{(kubeconfig is null ? "" : $" in '{kubeconfig}'")}: {ex.Message}");
        }
        // A watch is a long poll: the client's default timeout of 100 s would cut it short.
        configuration.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        return new k8s.Kubernetes(configuration);
    }
}
