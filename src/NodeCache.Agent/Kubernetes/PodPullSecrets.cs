using k8s;
using k8s.Autorest;
using k8s.Models;
using NodeCache.Upstream;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// Reads the registry credentials a pod may pull with: the <c>kubernetes.io/dockerconfigjson</c> Secrets it names in
/// <c>imagePullSecrets</c> and those of its service account. Only secret names and counts are ever logged.
/// </summary>
internal sealed class PodPullSecrets(IKubernetes client, ILogger<PodPullSecrets> logger)
{
    private const string DockerConfigJsonType = "kubernetes.io/dockerconfigjson";
    private const string DockerConfigJsonKey = ".dockerconfigjson";

    public async Task<DockerConfigCredentials> ReadAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var @namespace = pod.Metadata.NamespaceProperty ?? "default";
        var names = (pod.Spec?.ImagePullSecrets ?? []).Select(s => s.Name).ToList();
        var account = pod.Spec?.ServiceAccountName ?? "default";
        try
        {
            var serviceAccount = await client.CoreV1.ReadNamespacedServiceAccountAsync(account, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            names.AddRange((serviceAccount.ImagePullSecrets ?? []).Select(s => s.Name));
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }
        var credentials = new DockerConfigCredentials();
        foreach (var name in names.Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.Ordinal))
        {
            try
            {
                var secret = await client.CoreV1.ReadNamespacedSecretAsync(name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (secret.Type != DockerConfigJsonType || secret.Data?.TryGetValue(DockerConfigJsonKey, out var content) != true || !credentials.Add(content))
                {
                    logger.LogWarning("Pull secret {Namespace}/{Secret} of pod {Pod} is not a readable {Type}", @namespace, name, pod.Metadata.Name, DockerConfigJsonType);
                }
            }
            catch (HttpOperationException ex)
            {
                logger.LogWarning("Pull secret {Namespace}/{Secret} of pod {Pod}: {Status}", @namespace, name, pod.Metadata.Name, (int)ex.Response.StatusCode);
            }
        }
        logger.LogDebug("Pod {Namespace}/{Pod}: {Count} registry credentials from its pull secrets", @namespace, pod.Metadata.Name, credentials.Count);
        return credentials;
    }
}
