using k8s;
using k8s.Autorest;
using k8s.Models;

namespace NodeCache.Agent.Kubernetes;

/// <summary>Receives what a <see cref="ResourceWatch{T, TList}"/> sees: the whole set after each list, then each change.</summary>
internal interface IWatchTarget<in T>
{
    /// <summary>Everything that exists now; anything known but not in <paramref name="items"/> is gone.</summary>
    void Resync(IEnumerable<T> items);

    void Upsert(T item);

    void Delete(T item);
}

/// <summary>
/// Keeps a target in step with one kind of Kubernetes object, as client-go's reflector does: list, then watch from the
/// list's <c>resourceVersion</c>; resume from the last version seen (events or BOOKMARKs) when a watch ends or its
/// connection drops; list again on <c>410 Gone</c>, since the versions in between are lost; back off while the API
/// cannot be reached.
/// </summary>
internal sealed class ResourceWatch<T, TList>(
    string what,
    Func<CancellationToken, Task<TList>> list,
    Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
    IWatchTarget<T> target,
    ILogger logger)
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IItems<T>, IMetadata<V1ListMeta>
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public async Task RunAsync(CancellationToken stopping)
    {
        string? version = null;
        var backoff = FirstBackoff;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (version is null)
                {
                    var listed = await list(stopping).ConfigureAwait(false);
                    version = listed.Metadata?.ResourceVersion ?? "";
                    target.Resync(listed.Items ?? []);
                    logger.LogInformation("Listed {What}: {Count} at resourceVersion {Version}", what, listed.Items?.Count ?? 0, version);
                }
                var gone = false;
                await foreach (var (type, item) in watch(version, error => gone |= IsGone(error, what), stopping).ConfigureAwait(false))
                {
                    backoff = FirstBackoff;
                    version = item.Metadata?.ResourceVersion ?? version;
                    switch (type)
                    {
                        case WatchEventType.Added or WatchEventType.Modified:
                            target.Upsert(item);
                            break;
                        case WatchEventType.Deleted:
                            target.Delete(item);
                            break;
                    }
                }
                if (gone)
                {
                    logger.LogInformation("Watch of {What} from resourceVersion {Version}: 410 Gone; listing again", what, version);
                    version = null;
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.Gone)
            {
                version = null;
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException or KubernetesException or System.Text.Json.JsonException)
            {
                logger.LogWarning("Watch of {What} failed: {Reason}; again in {Delay} ms", what, ex.Message, (int)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private bool IsGone(Exception error, string watched)
    {
        if (error is KubernetesException { Status.Code: 410 })
        {
            return true;
        }
        logger.LogWarning("Watch of {What}: {Error}", watched, error.Message);
        return false;
    }
}
