namespace NodeCache.Pulls;

/// <summary>One registry request inside a pull: reports the bytes it served, and ends with <see cref="Dispose"/>.</summary>
public readonly struct PullScope : IDisposable
{
    private readonly PullTracker.OpenPull? _pull;
    private readonly PullTracker? _tracker;

    internal PullScope(PullTracker tracker, PullTracker.OpenPull pull) => (_tracker, _pull) = (tracker, pull);

    /// <summary>Blob bytes this request sent to the client, from the cache or following an upstream fill.</summary>
    public void Served(bool fromCache, long bytes) => _pull?.Add(fromCache, bytes);

    /// <summary>
    /// Manifest bytes this request sent. They count in the pull's bytes but not in its source: containerd resolves a tag
    /// with a HEAD first, which brings the manifest into the cache, so the GET that follows is a hit even on a cold pull.
    /// </summary>
    public void ServedManifest(long bytes) => _pull?.AddManifest(bytes);

    /// <summary>The request was answered with content (a 2xx or 304), not an error.</summary>
    public void Succeeded() => _pull?.Succeed();

    public void Dispose()
    {
        if (_pull is not null)
        {
            _tracker!.End(_pull);
        }
    }
}
