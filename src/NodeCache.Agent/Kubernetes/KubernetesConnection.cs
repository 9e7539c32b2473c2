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
                var kubeconfig = KubernetesClientConfiguration.LoadKubeConfig(file);
                AllowAnonymousUser(kubeconfig);
                configuration = KubernetesClientConfiguration.BuildConfigFromConfigObject(kubeconfig);
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

    // kubectl sends no credentials for a user that has none (kubectl proxy, an API server allowing anonymous reads);
    // the client library refuses such a user, though it accepts a context with no user at all, which means the same.
    private static void AllowAnonymousUser(k8s.KubeConfigModels.K8SConfiguration kubeconfig)
    {
        var context = kubeconfig.Contexts?.FirstOrDefault(c => c.Name == kubeconfig.CurrentContext)?.ContextDetails;
        if (context?.User is not { } name || kubeconfig.Users?.FirstOrDefault(u => u.Name == name) is not { } user)
        {
            return;
        }
        var credentials = user.UserCredentials;
        var hasAny = credentials is not null
            && (!string.IsNullOrEmpty(credentials.Token) || !string.IsNullOrEmpty(credentials.UserName) || !string.IsNullOrEmpty(credentials.Password)
                || !string.IsNullOrEmpty(credentials.ClientCertificateData) || !string.IsNullOrEmpty(credentials.ClientCertificate)
                || !string.IsNullOrEmpty(credentials.ClientKeyData) || !string.IsNullOrEmpty(credentials.ClientKey)
                || credentials.AuthProvider is not null || credentials.ExternalExecution is not null);
        if (!hasAny)
        {
            context.User = null;
        }
    }
}
