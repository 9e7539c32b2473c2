namespace NodeCache.Pulls;

/// <summary>One registry request inside a pull: reports the bytes it served, and ends with <see cref="Dispose"/>.</summary>
public readonly struct PullScope : IDisposable
{
    private readonly PullTracker.OpenPull? _pull;
    private readonly PullTracker? _tracker;

    internal PullScope(PullTracker tracker, PullTracker.OpenPull pull) => (_tracker, _pull) = (tracker, pull);

    /// <summary>Bytes this request sent to the client, from the cache or following an upstream fill.</summary>
    public void Served(bool fromCache, long bytes) => _pull?.Add(fromCache, bytes);

    public void Dispose()
    {
        if (_pull is not null)
        {
            _tracker!.End(_pull);
        }
    }
}
