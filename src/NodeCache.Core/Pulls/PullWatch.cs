using System.Threading.Channels;

namespace NodeCache.Pulls;

/// <summary>A subscription to pull events; dispose it to stop receiving them.</summary>
public sealed class PullWatch(ChannelReader<ImagePull> events, Action unsubscribe) : IDisposable
{
    public ChannelReader<ImagePull> Events { get; } = events;

    public void Dispose() => unsubscribe();
}
