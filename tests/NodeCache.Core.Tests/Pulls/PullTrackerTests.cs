using System.Diagnostics.Metrics;
using NodeCache.Oci;
using NodeCache.Pulls;
using NodeCache.Telemetry;

namespace NodeCache.Core.Tests.Pulls;

/// <summary>Requests grouped into image pulls, with the real clock and a short idle window.</summary>
public sealed class PullTrackerTests : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly PullMetrics _metrics = new();
    private readonly PullTracker _tracker;
    private readonly PullWatch _watch;

    public PullTrackerTests()
    {
        _tracker = new PullTracker(_metrics, TimeProvider.System, Window);
        _watch = _tracker.Watch();
    }

    public void Dispose()
    {
        _watch.Dispose();
        _tracker.Dispose();
        _metrics.Dispose();
    }

    [Fact]
    public async Task Requests_of_one_client_for_one_repository_are_one_pull_with_all_their_bytes()
    {
        var app = RepositoryName.Parse("team/app");
        using (var resolve = _tracker.Begin("127.0.0.1", "harbor.test", app, "1"))
        {
            resolve.ServedManifest(0);
        }
        using (var manifest = _tracker.Begin("127.0.0.1", "harbor.test", app, "sha256:" + new string('a', 64)))
        {
            manifest.ServedManifest(700);
        }
        using (var layer = _tracker.Begin("127.0.0.1", "harbor.test", app, "sha256:" + new string('b', 64)))
        {
            layer.Served(fromCache: false, 10_000);
            layer.Succeeded();
        }

        var started = await NextAsync();
        var finished = await NextAsync();

        Assert.False(started.Finished);
        Assert.Equal("1", started.Reference);
        Assert.True(finished.Finished);
        Assert.Equal(started.Id, finished.Id);
        Assert.Equal(10_700, finished.Bytes);
        Assert.Equal(3, finished.Requests);
        Assert.Equal(PullSource.Upstream, finished.Source);
        Assert.False(finished.Failed);
        Assert.Equal([finished], _tracker.Recent());
    }

    [Fact]
    public async Task The_source_is_mixed_when_some_blobs_came_from_the_cache_and_some_from_upstream()
    {
        var app = RepositoryName.Parse("team/app");
        using (var cached = _tracker.Begin("127.0.0.1", "harbor.test", app, "1"))
        using (var filled = _tracker.Begin("127.0.0.1", "harbor.test", app, "1"))
        {
            cached.Served(fromCache: true, 5);
            filled.Served(fromCache: false, 7);
        }

        await NextAsync();
        var finished = await NextAsync();

        Assert.Equal(PullSource.Mixed, finished.Source);
        Assert.Equal(12, finished.Bytes);
    }

    [Fact]
    public async Task Other_repositories_and_other_clients_are_other_pulls()
    {
        using (_tracker.Begin("127.0.0.1", "harbor.test", RepositoryName.Parse("team/app"), "1"))
        using (_tracker.Begin("127.0.0.1", "harbor.test", RepositoryName.Parse("team/tools"), "1"))
        using (_tracker.Begin("10.0.0.9", "harbor.test", RepositoryName.Parse("team/app"), "1"))
        {
            Assert.Equal(3, _tracker.Running().Count);
        }

        var events = new List<ImagePull>();
        for (var i = 0; i < 6; i++)
        {
            events.Add(await NextAsync());
        }

        Assert.Equal(3, events.Where(e => e.Finished).Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_pull_does_not_end_while_one_of_its_requests_is_still_running()
    {
        var scope = _tracker.Begin("127.0.0.1", "harbor.test", RepositoryName.Parse("team/big"), "1");
        await NextAsync();

        await Task.Delay(Window * 5);
        Assert.False(_watch.Events.TryRead(out _));
        Assert.Single(_tracker.Running());

        scope.Dispose();
        var finished = await NextAsync();
        Assert.True(finished.Finished);
        // Timers may fire a tick early against the monotonic clock the duration is read from.
        Assert.True(finished.Duration >= Window * 4, $"{finished.Duration}");
    }

    [Fact]
    public async Task A_finished_pull_is_counted_with_its_registry_and_source_and_a_failed_probe_is_not()
    {
        var recorded = new List<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this class makes pull metrics, and its tests run one after another.
            if (instrument.Meter.Name == MirrorMetrics.MeterName && instrument.Name.StartsWith("nodecache_image_pull", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        listener.Start();

        _tracker.Begin("127.0.0.1", "harbor.test", RepositoryName.Parse("team/missing"), "1").Dispose();
        using (var scope = _tracker.Begin("127.0.0.1", "harbor.test", RepositoryName.Parse("team/app"), "1"))
        {
            scope.Served(fromCache: true, 42);
            scope.Succeeded();
        }
        var events = new List<ImagePull>();
        for (var i = 0; i < 4; i++)
        {
            events.Add(await NextAsync());
        }

        Assert.True(events.Single(e => e.Finished && e.Repository.Value == "team/missing").Failed);
        lock (recorded)
        {
            Assert.Equal(["nodecache_image_pull_bytes", "nodecache_image_pull_duration", "nodecache_image_pulls"], recorded.Select(r => r.Instrument).Order());
            Assert.Equal(42, recorded.Single(r => r.Instrument == "nodecache_image_pull_bytes").Value);
            Assert.All(recorded, r => Assert.Equal(new Dictionary<string, object?> { ["registry"] = "harbor.test", ["source"] = "cache" }, r.Tags));
        }

        void Record(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }
            lock (recorded)
            {
                recorded.Add((name, value, copy));
            }
        }
    }

    private async Task<ImagePull> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await _watch.Events.ReadAsync(timeout.Token);
    }
}
