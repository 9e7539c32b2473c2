using NodeCache.Kubernetes;
using NodeCache.Oci;
using NodeCache.Prewarm;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// The ImagePrewarms that select this node, as the watch reports them, fulfilled here: each image fetched through the
/// same <see cref="ImagePrewarm"/> the control API uses, and this node's progress written to the resource's status. A
/// prewarm is fulfilled once per generation of its spec; one this node already finished (its status says so, e.g. before
/// a restart) is not fetched again. With <c>spec.pin</c> each image's manifest is pinned, and the pins are released when
/// the prewarm expires (at <c>creationTimestamp + spec.ttl</c>, when the node marks it Expired), is deleted or stops
/// selecting this node.
/// </summary>
internal sealed class NodePrewarms(
    ImagePrewarm prewarm, PrewarmPins pins, PrewarmStatusWriter status, string nodeName, IDictionary<string, string> nodeLabels, Platform platform,
    TimeProvider time, ILogger logger, CancellationToken stopping) : IWatchTarget<ImagePrewarmResource>, IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Fulfilment> _known = new(StringComparer.Ordinal);

    // One prewarm at a time: each already fetches several blobs at once, and a node's link is better spent finishing one.
    private readonly SemaphoreSlim _oneAtATime = new(1);

    public void Resync(IEnumerable<ImagePrewarmResource> items)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            present.Add(item.Metadata.Name);
            Upsert(item);
        }
        List<string> vanished;
        lock (_gate)
        {
            vanished = [.. _known.Keys.Where(name => !present.Contains(name))];
        }
        foreach (var name in vanished)
        {
            Forget(name);
        }
    }

    public void Upsert(ImagePrewarmResource item)
    {
        var name = item.Metadata.Name;
        var mine = item.StatusOf(nodeName);
        if (!item.Spec.Selects(nodeLabels))
        {
            Forget(name);
            if (mine is not null)
            {
                // Its selector no longer names this node (perhaps while the agent was down): let go of what it pinned
                // here, and remove the entry, which would count a node that is not asked.
                pins.Restore(name, mine.Pinned);
                pins.Release(name);
                _ = status.WriteAsync(name, item.Spec.Images.Count, null, stopping);
            }
            return;
        }
        var generation = item.Metadata.Generation ?? 1;
        var expiresAt = ExpiryOf(item);
        Fulfilment fulfilment;
        lock (_gate)
        {
            if (_known.TryGetValue(name, out var current))
            {
                if (current.Uid == item.Metadata.Uid && current.Generation == generation)
                {
                    return; // our own status writes come back as MODIFIED events
                }
                current.Stop();
            }
            else
            {
                pins.Restore(name, mine?.Pinned);
            }
            fulfilment = new Fulfilment(item.Metadata.Uid, generation, item.Spec, mine, stopping);
            _known[name] = fulfilment;
        }
        var now = time.GetUtcNow();
        if (expiresAt is { } expiry && expiry <= now)
        {
            if (mine is not { Phase: NodePrewarmPhase.Expired })
            {
                fulfilment.Run = ExpireAsync(name, fulfilment, expiry);
            }
            return;
        }
        if (mine is { Phase: NodePrewarmPhase.Ready or NodePrewarmPhase.Failed } && mine.ObservedGeneration == generation)
        {
            logger.LogInformation("ImagePrewarm {Name} (generation {Generation}) was fulfilled here before: {Phase}", name, generation, mine.Phase);
        }
        else
        {
            fulfilment.Run = FulfilAsync(name, fulfilment);
        }
        if (expiresAt is { } later)
        {
            fulfilment.Expiry = time.CreateTimer(_ => fulfilment.Run = ExpireAsync(name, fulfilment, later), null, later - now, Timeout.InfiniteTimeSpan);
        }
    }

    public void Delete(ImagePrewarmResource item) => Forget(item.Metadata.Name);

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var fulfilment in _known.Values)
            {
                fulfilment.Stop();
            }
            _known.Clear();
        }
    }

    private static DateTimeOffset? ExpiryOf(ImagePrewarmResource item) =>
        PrewarmTtl.TryParse(item.Spec.Ttl, out var ttl) && item.Metadata.CreationTimestamp is { } created
            ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) + ttl
            : null;

    private void Forget(string name)
    {
        Fulfilment? gone;
        lock (_gate)
        {
            if (!_known.Remove(name, out gone))
            {
                return;
            }
        }
        gone.Stop();
        var released = pins.Release(name);
        logger.LogInformation("ImagePrewarm {Name} no longer applies to this node; {Released} pins released", name, released);
    }

    private async Task FulfilAsync(string name, Fulfilment fulfilment)
    {
        var spec = fulfilment.Spec;
        var cancellation = fulfilment.Cancellation.Token;
        var entry = new NodePrewarmStatus { Phase = NodePrewarmPhase.Pending, ObservedGeneration = fulfilment.Generation };
        try
        {
            await WriteAsync(name, fulfilment, entry, cancellation).ConfigureAwait(false);
            await _oneAtATime.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            var target = platform;
            if (!string.IsNullOrEmpty(spec.Platform) && !Platform.TryParse(spec.Platform, out target))
            {
                entry.Phase = NodePrewarmPhase.Failed;
                entry.Message = $"spec.platform '{spec.Platform}' is not os/architecture[/variant]";
                await WriteAsync(name, fulfilment, entry, cancellation).ConfigureAwait(false);
                return;
            }
            logger.LogInformation("Fulfilling ImagePrewarm {Name} (generation {Generation}): {Count} images for {Platform}", name, fulfilment.Generation, spec.Images.Count, target);
            entry.Phase = NodePrewarmPhase.Pulling;
            entry.Message = $"0 of {spec.Images.Count} images";
            await WriteAsync(name, fulfilment, entry, cancellation).ConfigureAwait(false);
            var failures = new List<string>();
            var pinned = new HashSet<Digest>();
            foreach (var text in spec.Images)
            {
                if (!ImageReference.TryParse(text, out var image, out var error))
                {
                    failures.Add($"bad image reference '{text}': {error}");
                    continue;
                }
                await foreach (var step in prewarm.RunAsync(image, target, cancellation).ConfigureAwait(false))
                {
                    if (step is not PrewarmFinished finished)
                    {
                        continue;
                    }
                    entry.BytesFetched += finished.BytesFetched;
                    if (finished.Failure == PrewarmFailure.None)
                    {
                        entry.ImagesReady++;
                        // A stopped run pins nothing more: whoever stopped it has released its pins.
                        if (spec.Pin && finished.Digest is { } digest && !cancellation.IsCancellationRequested)
                        {
                            pins.Hold(name, digest);
                            pinned.Add(digest);
                        }
                    }
                    else
                    {
                        logger.LogWarning("ImagePrewarm {Name}: {Image} failed: {Message}", name, image, finished.Message);
                        failures.Add(finished.Message);
                    }
                }
                entry.Message = $"{entry.ImagesReady} of {spec.Images.Count} images";
                await WriteAsync(name, fulfilment, entry, cancellation).ConfigureAwait(false);
            }
            entry.Phase = failures.Count == 0 ? NodePrewarmPhase.Ready : NodePrewarmPhase.Failed;
            entry.Message = failures.Count == 0
                ? $"{entry.ImagesReady} of {spec.Images.Count} images cached"
                : $"{entry.ImagesReady} of {spec.Images.Count} images cached; {string.Join("; ", failures)}";
            // What an earlier generation pinned and this one no longer wants is let go.
            pins.Release(name, keep: pinned);
            entry.Pinned = pins.PinnedFor(name);
            if (spec.Pin)
            {
                entry.Message += $", {pinned.Count} pinned";
            }
            await WriteAsync(name, fulfilment, entry, cancellation).ConfigureAwait(false);
            logger.LogInformation("ImagePrewarm {Name}: {Phase}, {Ready} of {Count} images, {Bytes} bytes fetched",
                name, entry.Phase, entry.ImagesReady, spec.Images.Count, entry.BytesFetched);
        }
        catch (OperationCanceledException)
        {
            // Deleted, expired, changed or shutting down: whoever stopped it writes what comes next.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HttpRequestException)
        {
            logger.LogWarning("ImagePrewarm {Name} failed: {Reason}", name, ex.Message);
            entry.Phase = NodePrewarmPhase.Failed;
            entry.Message = $"{entry.ImagesReady} of {spec.Images.Count} images cached; {ex.Message}";
            await WriteAsync(name, fulfilment, entry, stopping).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task ExpireAsync(string name, Fulfilment fulfilment, DateTimeOffset expiry)
    {
        var running = fulfilment.Run;
        await fulfilment.Cancellation.CancelAsync().ConfigureAwait(false);
        if (running is not null)
        {
            await running.ConfigureAwait(false);
        }
        lock (_gate)
        {
            if (!_known.TryGetValue(name, out var current) || current != fulfilment)
            {
                return; // deleted or replaced meanwhile
            }
        }
        var last = fulfilment.Last ?? new NodePrewarmStatus { ObservedGeneration = fulfilment.Generation };
        var released = pins.Release(name);
        var entry = new NodePrewarmStatus
        {
            Phase = NodePrewarmPhase.Expired,
            ObservedGeneration = fulfilment.Generation,
            ImagesReady = last.ImagesReady,
            BytesFetched = last.BytesFetched,
            Message = $"expired at {expiry:yyyy-MM-ddTHH:mm:ssZ} (was {last.Phase}); {released} pins released",
        };
        logger.LogInformation("ImagePrewarm {Name} expired at {Expiry}; {Released} pins released", name, expiry, released);
        await status.WriteAsync(name, fulfilment.Spec.Images.Count, entry, stopping).ConfigureAwait(false);
    }

    private Task WriteAsync(string name, Fulfilment fulfilment, NodePrewarmStatus entry, CancellationToken cancellation)
    {
        fulfilment.Last = new NodePrewarmStatus
        {
            Phase = entry.Phase, ObservedGeneration = entry.ObservedGeneration, ImagesReady = entry.ImagesReady, BytesFetched = entry.BytesFetched, Message = entry.Message,
            Pinned = entry.Pinned,
        };
        return status.WriteAsync(name, fulfilment.Spec.Images.Count, entry, cancellation);
    }

    /// <summary>This node's work on one generation of one prewarm.</summary>
    private sealed class Fulfilment(string uid, long generation, PrewarmSpec spec, NodePrewarmStatus? last, CancellationToken stopping)
    {
        public string Uid { get; } = uid;

        public long Generation { get; } = generation;

        public PrewarmSpec Spec { get; } = spec;

        public CancellationTokenSource Cancellation { get; } = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        /// <summary>What this node last wrote (or had written before a restart).</summary>
        public NodePrewarmStatus? Last { get; set; } = last;

        public Task? Run { get; set; }

        public ITimer? Expiry { get; set; }

        public void Stop()
        {
            Expiry?.Dispose();
            Cancellation.Cancel();
        }
    }
}
