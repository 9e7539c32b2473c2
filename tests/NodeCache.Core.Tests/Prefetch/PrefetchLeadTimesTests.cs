using System.Diagnostics.Metrics;
using NodeCache.Core.Tests.Support;
using NodeCache.Oci;
using NodeCache.Prefetch;
using NodeCache.Telemetry;

namespace NodeCache.Core.Tests.Prefetch;

public sealed class PrefetchLeadTimesTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Image_cached_before_the_first_request_records_how_long_before_as_ahead()
    {
        var (leadTimes, time, recorded) = Create();
        var image = Image("harbor.test/team/app:1");
        leadTimes.Track(image);
        leadTimes.Cached(image);
        time.Now += TimeSpan.FromSeconds(2);

        leadTimes.Requested("harbor.test", image.Repository, "1");
        leadTimes.Requested("harbor.test", image.Repository, "1");

        Assert.Equal([(2.0, "ahead")], recorded);
    }

    [Fact]
    public void Request_before_the_image_is_cached_records_the_wait_as_behind()
    {
        var (leadTimes, time, recorded) = Create();
        var image = Image("harbor.test/team/app@sha256:" + new string('a', 64));
        leadTimes.Track(image);
        leadTimes.Requested("harbor.test", image.Repository, image.Digest.ToString()!);
        time.Now += TimeSpan.FromSeconds(0.5);

        leadTimes.Cached(image);

        Assert.Equal([(0.5, "behind")], recorded);
    }

    [Fact]
    public void Kubelet_request_that_beat_the_watch_counts_as_behind()
    {
        var (leadTimes, time, recorded) = Create();
        var image = Image("harbor.test/team/app:1");
        leadTimes.Requested("harbor.test", image.Repository, "1");
        time.Now += TimeSpan.FromSeconds(0.25);
        leadTimes.Track(image);
        time.Now += TimeSpan.FromSeconds(0.25);

        leadTimes.Cached(image);

        Assert.Equal([(0.5, "behind")], recorded);
    }

    [Fact]
    public void Requests_for_images_nobody_prefetched_record_nothing()
    {
        var (leadTimes, _, recorded) = Create();
        leadTimes.Requested("harbor.test", RepositoryName.Parse("team/app"), "1");
        Assert.Empty(recorded);
    }

    [Fact]
    public async Task A_request_that_races_the_watch_tracking_its_image_is_never_lost()
    {
        var (leadTimes, _, recorded) = Create();
        // Fewer images than the early requests remembered, so none is forgotten for want of room.
        var images = Enumerable.Range(0, 1000).Select(i => Image($"harbor.test/team/app{i}:1")).ToArray();
        using var turn = new Barrier(2);

        // Each image is tracked and requested at the same moment from two threads, as the watch and the kubelet may.
        var watch = Task.Run(() =>
        {
            foreach (var image in images)
            {
                turn.SignalAndWait();
                leadTimes.Track(image);
            }
        });
        var kubelet = Task.Run(() =>
        {
            foreach (var image in images)
            {
                turn.SignalAndWait();
                leadTimes.Requested("harbor.test", image.Repository, "1");
            }
        });
        await Task.WhenAll(watch, kubelet);
        foreach (var image in images)
        {
            leadTimes.Cached(image);
        }

        Assert.Equal(images.Length, recorded.Count);
    }

    private static ImageReference Image(string text) => ImageReference.TryParse(text, out var image) ? image : throw new FormatException(text);

    private static (PrefetchLeadTimes, ManualTime, List<(double, string)>) Create()
    {
        var time = new ManualTime(Start);
        var recorded = new List<(double, string)>();
        var metrics = new PrefetchMetrics();
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MirrorMetrics.MeterName && instrument.Name == "nodecache_prefetch_lead_time")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                recorded.Add((value, (string)tag.Value!));
            }
        });
        listener.Start();
        return (new PrefetchLeadTimes(metrics, time, new RecordingLogger()), time, recorded);
    }
}
