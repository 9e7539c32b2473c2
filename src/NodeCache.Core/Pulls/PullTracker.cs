using System.Threading.Channels;
using NodeCache.Oci;

namespace NodeCache.Pulls;

/// <summary>
/// Groups registry requests into image pulls. containerd pulls an image as a burst of requests for one repository (resolve
/// the tag, the index, the manifest, the config, the layers in parallel); requests from one client for one repository belong
/// to the same pull until none has been running for <see cref="IdleWindow"/>. A finished pull is recorded in the metrics
/// and announced to watchers.
/// </summary>
public sealed class PullTracker : IDisposable
{
    /// <summary>
    /// containerd asks for the next blob within milliseconds of the previous answer; two seconds of silence ends a pull
    /// without merging two deployments' pulls of one image a minute apart.
    /// </summary>
    public static readonly TimeSpan DefaultIdleWindow = TimeSpan.FromSeconds(2);

    private const int RecentCapacity = 100;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Peer, string Registry, string Repository), OpenPull> _open = [];
    private readonly Queue<ImagePull> _recent = new();
    private readonly List<Channel<ImagePull>> _watchers = [];
    private readonly PullMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ITimer _sweep;
    private long _nextId;

    public PullTracker(PullMetrics metrics, TimeProvider time, TimeSpan? idleWindow = null)
    {
        _metrics = metrics;
        _time = time;
        IdleWindow = idleWindow ?? DefaultIdleWindow;
        var period = IdleWindow / 4;
        _sweep = time.CreateTimer(_ => Sweep(), null, period, period);
    }

    public TimeSpan IdleWindow { get; }

    /// <summary>Pulls that ended lately, oldest first.</summary>
    public IReadOnlyList<ImagePull> Recent()
    {
        lock (_gate)
        {
            return [.. _recent];
        }
    }

    /// <summary>Pulls running now.</summary>
    public IReadOnlyList<ImagePull> Running()
    {
        lock (_gate)
        {
            return [.. _open.Values.Select(p => p.Snapshot(finished: false, TimeSpan.Zero))];
        }
    }

    /// <summary>A request starts: it joins the pull of its client and repository, or starts one.</summary>
    /// <param name="peer">The client, e.g. its IP address: containerd opens several connections for one pull.</param>
    public PullScope Begin(string peer, string registry, RepositoryName repository, string reference)
    {
        ImagePull? started = null;
        OpenPull pull;
        lock (_gate)
        {
            var key = (peer, registry, repository.Value);
            if (!_open.TryGetValue(key, out pull!))
            {
                pull = new OpenPull(++_nextId, registry, repository, reference, _time.GetUtcNow(), _time.GetTimestamp());
                _open[key] = pull;
                started = pull.Snapshot(finished: false, TimeSpan.Zero);
            }
            pull.Active++;
            pull.Requests++;
        }
        if (started is not null)
        {
            Publish(started);
        }
        return new PullScope(this, pull);
    }

    /// <summary>Every pull that starts or ends from now on, until the watch is disposed.</summary>
    public PullWatch Watch()
    {
        // A watcher that does not keep up loses the oldest events rather than holding the agent's memory.
        var channel = Channel.CreateBounded<ImagePull>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            _watchers.Add(channel);
        }
        return new PullWatch(channel.Reader, () =>
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
            channel.Writer.TryComplete();
        });
    }

    public void Dispose() => _sweep.Dispose();

    internal void End(OpenPull pull)
    {
        lock (_gate)
        {
            pull.Active--;
            pull.LastActivity = _time.GetTimestamp();
        }
    }

    private void Sweep()
    {
        List<ImagePull>? finished = null;
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            foreach (var (key, pull) in _open)
            {
                if (pull.Active == 0 && _time.GetElapsedTime(pull.LastActivity, now) >= IdleWindow)
                {
                    _open.Remove(key);
                    var done = pull.Snapshot(finished: true, _time.GetElapsedTime(pull.StartTimestamp, pull.LastActivity));
                    (finished ??= []).Add(done);
                    _recent.Enqueue(done);
                    if (_recent.Count > RecentCapacity)
                    {
                        _recent.Dequeue();
                    }
                }
            }
        }
        foreach (var done in finished ?? [])
        {
            // A probe for an image the upstream does not have is not a pull; watchers still see it, as failed.
            if (!done.Failed)
            {
                _metrics.Pulled(done.Registry, done.Source, done.Duration, done.Bytes);
            }
            Publish(done);
        }
    }

    private void Publish(ImagePull pull)
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(pull);
            }
        }
    }

    /// <summary>A pull still receiving requests; guarded by the tracker's lock except for the byte counts.</summary>
    internal sealed class OpenPull(long id, string registry, RepositoryName repository, string reference, DateTimeOffset startedAt, long startTimestamp)
    {
        private long _cacheBytes;
        private long _upstreamBytes;
        private long _manifestBytes;
        private int _succeeded;

        public long StartTimestamp { get; } = startTimestamp;

        public int Active { get; set; }

        public int Requests { get; set; }

        public long LastActivity { get; set; } = startTimestamp;

        public void Add(bool fromCache, long bytes) => Interlocked.Add(ref fromCache ? ref _cacheBytes : ref _upstreamBytes, bytes);

        public void AddManifest(long bytes) => Interlocked.Add(ref _manifestBytes, bytes);

        public void Succeed() => Volatile.Write(ref _succeeded, 1);

        public ImagePull Snapshot(bool finished, TimeSpan duration)
        {
            var cache = Interlocked.Read(ref _cacheBytes);
            var upstream = Interlocked.Read(ref _upstreamBytes);
            var source = upstream == 0 ? PullSource.Cache : cache == 0 ? PullSource.Upstream : PullSource.Mixed;
            return new ImagePull(id, finished, registry, repository, reference, cache + upstream + Interlocked.Read(ref _manifestBytes), source, Requests, startedAt, duration,
                Failed: finished && Volatile.Read(ref _succeeded) == 0);
        }
    }
}
