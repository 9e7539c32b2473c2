using Microsoft.Extensions.Logging;
using NodeCache.Access;
using NodeCache.Concurrency;
using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Prefetch;

/// <summary>
/// The images this node is about to need, fetched most urgent first by a bounded number of workers through the mirror's
/// own fills, so that a pull arriving mid-prefetch joins the fill instead of starting another. Each image is prefetched
/// once however many pods want it and however often they are reported; an image nobody wants any more is dropped, and
/// its prefetch stops at the next blob.
/// </summary>
public sealed class PrefetchQueue : IDisposable
{
    /// <summary>The name under which the queue keeps its wanted images' blobs in <see cref="PodPins"/>.</summary>
    public const string PinHolder = "prefetch";

    private readonly PrefetchPlanner _planner;
    private readonly BlobFills _fills;
    private readonly BlobStore _store;
    private readonly UpstreamRules _rules;
    private readonly PrefetchMetrics _metrics;
    private readonly PrefetchLeadTimes _leadTimes;
    private readonly PrefetchOptions _options;
    private readonly BandwidthLimit? _bandwidth;
    private readonly PrivateImagePolicy? _policy;
    private readonly PodPins? _podPins;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _queued = new(0);
    private long _sequence;

    public PrefetchQueue(
        PrefetchPlanner planner, BlobFills fills, BlobStore store, UpstreamRules rules, PrefetchMetrics metrics, PrefetchLeadTimes leadTimes,
        PrefetchOptions options, ILogger logger, PrivateImagePolicy? policy = null, PodPins? podPins = null)
    {
        _policy = policy;
        _podPins = podPins;
        _planner = planner;
        _fills = fills;
        _store = store;
        _rules = rules;
        _metrics = metrics;
        _leadTimes = leadTimes;
        _options = options;
        _bandwidth = options.BytesPerSecond is { } rate ? new BandwidthLimit(rate) : null;
        _logger = logger;
        metrics.ObserveDepth(() => Depth);
    }

    /// <summary>Images waiting or being fetched.</summary>
    public int Depth
    {
        get
        {
            lock (_gate)
            {
                return _jobs.Values.Count(j => j.State is JobState.Queued or JobState.Running);
            }
        }
    }

    /// <summary>
    /// Notes that <paramref name="wanter"/> (a pod, or a workload's anticipated pod) needs <paramref name="image"/> on
    /// <paramref name="platform"/>. Queues it unless it is queued, running or cached already; raises its priority if this
    /// wanter is more urgent. <paramref name="credentials"/> (the wanter's pull secrets that match the image) are tried
    /// before the agent's own.
    /// </summary>
    public void Want(string wanter, ImageReference image, Platform platform, PrefetchPriority priority, IReadOnlyList<RegistryCredential>? credentials = null)
    {
        var key = $"{image}|{platform}";
        lock (_gate)
        {
            if (_jobs.TryGetValue(key, out var job))
            {
                var isNew = job.Wanters.Add(wanter);
                if (isNew && job.Wanters.Count == 1)
                {
                    PublishInUse();
                }
                var moreCredentials = job.AddCredentials(credentials);
                if (priority < job.Priority)
                {
                    job.Priority = priority;
                }
                if (job.State == JobState.Running && moreCredentials)
                {
                    // Credentials that came too late for this run get a run of their own should this one be refused.
                    job.RetryIfFailed = true;
                }
                // A failure is worth one more try for someone new; anything else is already done or under way.
                if (job.State != JobState.Failed || !isNew)
                {
                    return;
                }
                job.State = JobState.Queued;
            }
            else
            {
                job = new Job(key, image, platform, priority, Interlocked.Increment(ref _sequence));
                job.Wanters.Add(wanter);
                job.AddCredentials(credentials);
                _jobs[key] = job;
                _leadTimes.Track(image);
            }
        }
        _logger.LogDebug("Prefetch of {Image} for {Platform} queued for {Wanter}", image, platform, wanter);
        _queued.Release();
    }

    /// <summary>Forgets what <paramref name="wanter"/> wanted: images nobody else wants leave the queue or stop at their next blob.</summary>
    public void Release(string wanter)
    {
        lock (_gate)
        {
            foreach (var job in _jobs.Values.ToList())
            {
                if (!job.Wanters.Remove(wanter) || job.Wanters.Count > 0)
                {
                    continue;
                }
                if (job.State == JobState.Running)
                {
                    job.Abandon.Cancel();
                }
                if (job.State != JobState.Cached)
                {
                    _jobs.Remove(job.Key);
                }
                if (job.Plan is not null)
                {
                    PublishInUse();
                }
            }
        }
    }

    /// <summary>Every digest (manifests, configs, layers) of the cached images that some pod on this node still wants.</summary>
    public IReadOnlySet<Digest> DigestsInUse()
    {
        lock (_gate)
        {
            return InUse();
        }
    }

    // Under the gate: whenever the set changes, eviction is told before anything else can change it again.
    private void PublishInUse()
    {
        if (_podPins is null)
        {
            return;
        }
        var inUse = InUse();
        _podPins.Replace(PinHolder, inUse);
        _logger.LogInformation("Keeping {Blobs} blobs of the images of pods on this node from eviction", inUse.Count);
    }

    private HashSet<Digest> InUse()
    {
        var digests = new HashSet<Digest>();
        foreach (var job in _jobs.Values.Where(j => j.Wanters.Count > 0 && j.Plan is not null))
        {
            digests.UnionWith(job.Plan!.Manifests);
            digests.UnionWith(job.Plan.Blobs.Select(b => b.Digest));
        }
        return digests;
    }

    public void Dispose() => _queued.Dispose();

    /// <summary>Runs the workers until <paramref name="stopping"/>.</summary>
    public Task RunAsync(CancellationToken stopping) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, _options.Concurrency)).Select(_ => WorkAsync(stopping)));

    private async Task WorkAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _queued.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (Next() is { } job)
            {
                await PrefetchAsync(job, stopping).ConfigureAwait(false);
            }
        }
    }

    private Job? Next()
    {
        lock (_gate)
        {
            var next = _jobs.Values.Where(j => j.State == JobState.Queued)
                .OrderBy(j => j.Priority).ThenBy(j => j.Sequence).FirstOrDefault();
            if (next is not null)
            {
                next.State = JobState.Running;
            }
            return next;
        }
    }

    private async Task PrefetchAsync(Job job, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping, job.Abandon.Token);
        var result = "failed";
        try
        {
            result = await FetchAsync(job, cancel.Token).ConfigureAwait(false) ? "cached" : "failed";
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            result = "cancelled";
            _logger.LogInformation("Prefetch of {Image} stopped: no pod on this node wants it any more", job.Image);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Prefetch of {Image} failed", job.Image);
        }
        bool retry;
        lock (_gate)
        {
            job.State = result switch
            {
                "cached" => JobState.Cached,
                "cancelled" => JobState.Cancelled,
                _ => JobState.Failed,
            };
            retry = job.State == JobState.Failed && job.RetryIfFailed && _jobs.ContainsKey(job.Key);
            job.RetryIfFailed = false;
            if (retry)
            {
                job.State = JobState.Queued;
            }
        }
        if (retry)
        {
            _queued.Release();
            return;
        }
        _metrics.Image(result);
        if (result == "cached")
        {
            _leadTimes.Cached(job.Image);
        }
    }

    private async Task<bool> FetchAsync(Job job, CancellationToken cancellationToken)
    {
        if (!_rules.TryResolve(job.Image.Registry, out var route))
        {
            return false;
        }
        if (_policy is { Mode: PrivateImageMode.Passthrough }
            && await _policy.IsPrivateAsync(route, job.Image.Repository, RegistryObject.Manifest, job.Image.Reference, cancellationToken).ConfigureAwait(false))
        {
            _logger.LogInformation("Not prefetching {Image}: its repository is private and private images are passed through", job.Image);
            return false;
        }
        PullIdentity?[] identities;
        lock (_gate)
        {
            identities = [.. job.Credentials.Select(PullIdentity.Of), null];
        }
        PlanResult planned = default;
        PullIdentity? identity = null;
        foreach (var candidate in identities)
        {
            identity = candidate;
            planned = await _planner.PlanAsync(job.Image, job.Platform, identity, cancellationToken).ConfigureAwait(false);
            if (!planned.Denied)
            {
                break;
            }
        }
        if (planned.Plan is not { } plan)
        {
            _logger.LogWarning("Prefetch of {Image} for {Platform}: {Problem}", job.Image, job.Platform, planned.Problem);
            return false;
        }
        lock (_gate)
        {
            job.Plan = plan;
            // Kept from the plan on, before the blobs are fetched: a pass in between must not take what was just fetched.
            PublishInUse();
        }
        long fetched = 0;
        var alreadyCached = 0;
        foreach (var blob in plan.Blobs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_store.Contains(blob.Digest))
            {
                alreadyCached++;
                continue;
            }
            var source = await _fills.JoinOrStartAsync(route, job.Image.Repository, blob.Digest, cancellationToken, _bandwidth, identity).ConfigureAwait(false);
            if (source.Fill is { } fill)
            {
                if (await fill.SettledAsync(cancellationToken).ConfigureAwait(false) != FillState.Committed)
                {
                    _logger.LogWarning("Prefetch of {Image}: blob {Digest} could not be fetched: {Reason}", job.Image, blob.Digest, fill.FailureReason);
                    return false;
                }
                if (!source.Joined)
                {
                    fetched += fill.Written;
                    _metrics.Bytes(fill.Written);
                }
            }
            else if (source.Cached is null)
            {
                _logger.LogWarning("Prefetch of {Image}: blob {Digest} could not be fetched: {Reason}", job.Image, blob.Digest, source.Error?.Message);
                return false;
            }
        }
        // Cached before it is said: a pod bound just after its nomination's prefetch then finds the job done, rather than
        // releasing a running one that its own wanting starts again.
        lock (_gate)
        {
            job.State = JobState.Cached;
        }
        _logger.LogInformation("Prefetched {Image} for {Platform} as {Manifest}: {Blobs} blobs, {AlreadyCached} already cached, {Bytes} bytes fetched as {Identity}",
            job.Image, job.Platform, plan.Manifest, plan.Blobs.Count, alreadyCached, fetched, identity?.ToString() ?? "the agent");
        return true;
    }

    private enum JobState
    {
        Queued,
        Running,
        Cached,
        Failed,
        Cancelled,
    }

    private sealed class Job(string key, ImageReference image, Platform platform, PrefetchPriority priority, long sequence)
    {
        public string Key { get; } = key;

        public ImageReference Image { get; } = image;

        public Platform Platform { get; } = platform;

        public PrefetchPriority Priority { get; set; } = priority;

        public long Sequence { get; } = sequence;

        public HashSet<string> Wanters { get; } = new(StringComparer.Ordinal);

        public JobState State { get; set; }

        public PrefetchPlan? Plan { get; set; }

        public CancellationTokenSource Abandon { get; } = new();

        public List<RegistryCredential> Credentials { get; } = [];

        public bool RetryIfFailed { get; set; }

        /// <summary>True when some of them were new.</summary>
        public bool AddCredentials(IReadOnlyList<RegistryCredential>? credentials)
        {
            var added = false;
            foreach (var credential in credentials ?? [])
            {
                if (!Credentials.Contains(credential))
                {
                    Credentials.Add(credential);
                    added = true;
                }
            }
            return added;
        }
    }
}
