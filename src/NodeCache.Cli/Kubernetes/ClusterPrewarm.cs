using System.Net;
using System.Security.Cryptography;
using NodeCache.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NodeCache.Prewarm;

namespace NodeCache.Cli.Kubernetes;

/// <summary>What <c>nodecache prewarm --all-nodes|--selector</c> asks for.</summary>
internal sealed record ClusterPrewarmRequest(
    IReadOnlyList<string> Images, IReadOnlyDictionary<string, string>? Selector, string? Platform, bool Pin, string? Ttl, string? Name, bool Wait, TimeSpan Timeout);

/// <summary>
/// Creates an ImagePrewarm through the Kubernetes API and follows its status with a watch until every node its selector
/// matched (listed when it was created) has reported Ready, Failed or Expired, or the timeout passes.
/// </summary>
internal static class ClusterPrewarm
{
    public static async Task<ExitCode> RunAsync(IKubernetes client, ClusterPrewarmRequest request, ClusterPrewarmView view, CancellationToken cancellationToken)
    {
        var resource = new ImagePrewarmResource
        {
            Metadata = new V1ObjectMeta { Name = request.Name ?? GeneratedName() },
            Spec = new PrewarmSpec
            {
                Images = [.. request.Images],
                NodeSelector = request.Selector is null ? null : new Dictionary<string, string>(request.Selector, StringComparer.Ordinal),
                Platform = request.Platform,
                Pin = request.Pin,
                Ttl = request.Ttl,
            },
        };
        var created = await AskAsync(() => client.CustomObjects.CreateClusterCustomObjectAsync<ImagePrewarmResource>(
            resource, ImagePrewarmResource.Group, ImagePrewarmResource.Version, ImagePrewarmResource.Plural, cancellationToken: cancellationToken),
            $"create ImagePrewarm {resource.Metadata.Name}").ConfigureAwait(false);
        var name = created.Metadata.Name;
        if (!request.Wait)
        {
            view.Created(created, null);
            return ExitCode.Ok;
        }
        var labelSelector = request.Selector is null ? null : NodeSelectorText.Format(request.Selector);
        var listed = await AskAsync(() => client.CoreV1.ListNodeAsync(labelSelector: labelSelector, cancellationToken: cancellationToken), "list the nodes").ConfigureAwait(false);
        var nodes = listed.Items.Select(n => n.Metadata.Name).Order(StringComparer.Ordinal).ToList();
        view.Created(created, nodes);
        if (nodes.Count == 0)
        {
            view.Finished(created, nodes, timedOut: false);
            return ExitCode.Ok;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(request.Timeout);
        var latest = created;
        var timedOut = false;
        await view.FollowAsync(async update =>
        {
            var version = created.Metadata.ResourceVersion;
            while (!IsComplete(latest, nodes))
            {
                try
                {
                    await foreach (var (type, item) in ImagePrewarmResource.Typed(client.CustomObjects.WatchListClusterCustomObjectAsync(
                        ImagePrewarmResource.Group, ImagePrewarmResource.Version, ImagePrewarmResource.Plural, allowWatchBookmarks: true,
                        fieldSelector: $"metadata.name={name}", resourceVersion: version, cancellationToken: deadline.Token)).ConfigureAwait(false))
                    {
                        version = item.Metadata?.ResourceVersion ?? version;
                        if (type == WatchEventType.Deleted)
                        {
                            throw new CliFailure(ExitCode.Failed, $"ImagePrewarm {name} was deleted before every node reported");
                        }
                        if (type is WatchEventType.Added or WatchEventType.Modified)
                        {
                            latest = item;
                            update(latest);
                            if (IsComplete(latest, nodes))
                            {
                                return;
                            }
                        }
                    }
                    // The watch ended (the server's timeout, or a 410 for a version compacted away): read it again and go on from there.
                    latest = await client.CustomObjects.GetClusterCustomObjectAsync<ImagePrewarmResource>(
                        ImagePrewarmResource.Group, ImagePrewarmResource.Version, ImagePrewarmResource.Plural, name, cancellationToken: deadline.Token).ConfigureAwait(false);
                    version = latest.Metadata.ResourceVersion;
                    update(latest);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    timedOut = true;
                    return;
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or KubernetesException)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), deadline.Token).ConfigureAwait(false);
                }
            }
        }).ConfigureAwait(false);
        view.Finished(latest, nodes, timedOut);
        if (timedOut)
        {
            return ExitCode.TimedOut;
        }
        var entries = nodes.Select(n => latest.StatusOf(n)).ToList();
        return entries.All(e => e is { Phase: NodePrewarmPhase.Ready }) ? ExitCode.Ok : ExitCode.Failed;
    }

    /// <summary>Every listed node has finished with the current generation of the spec.</summary>
    public static bool IsComplete(ImagePrewarmResource prewarm, IReadOnlyList<string> nodes) =>
        nodes.All(node => prewarm.StatusOf(node) is { IsFinal: true } entry && entry.ObservedGeneration >= (prewarm.Metadata.Generation ?? 1));

    // Unique enough for a cluster, and valid as a DNS subdomain name.
    private static string GeneratedName() => "prewarm-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    private static async Task<T> AskAsync<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            var message = StatusMessage(ex);
            throw ex.Response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new CliFailure(ExitCode.ClusterUnavailable, $"the Kubernetes API refused to {what}: {message}"),
                HttpStatusCode.NotFound => new CliFailure(ExitCode.ClusterUnavailable, $"cannot {what}: {message} (is the ImagePrewarm CRD installed?)"),
                HttpStatusCode.Conflict => new CliFailure(ExitCode.Usage, $"cannot {what}: {message}"),
                _ => new CliFailure(ExitCode.ClusterUnavailable, $"cannot {what}: {message}"),
            };
        }
        catch (HttpRequestException ex)
        {
            throw new CliFailure(ExitCode.ClusterUnavailable, $"cannot reach the Kubernetes API to {what}: {ex.Message}");
        }
    }

    // The API server explains itself in a Status object; its message is the one line worth showing.
    private static string StatusMessage(HttpOperationException ex)
    {
        try
        {
            return KubernetesJson.Deserialize<V1Status>(ex.Response.Content)?.Message ?? $"{(int)ex.Response.StatusCode} {ex.Response.ReasonPhrase}";
        }
        catch (System.Text.Json.JsonException)
        {
            return $"{(int)ex.Response.StatusCode} {ex.Response.ReasonPhrase}";
        }
    }
}
