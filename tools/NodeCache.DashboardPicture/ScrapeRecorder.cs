using System.Diagnostics;
using NodeCache.Testing;

namespace NodeCache.DashboardPicture;

/// <summary>One scrape of /metrics and when it was taken, in seconds from the first.</summary>
internal sealed record Scrape(double Seconds, AgentMetrics Metrics);

/// <summary>Scrapes the agent's /metrics at a fixed interval, as Prometheus would, until stopped.</summary>
internal sealed class ScrapeRecorder : IDisposable
{
    private readonly HttpClient _http = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Scrape> _scrapes = [];
    private readonly Task _loop;

    public ScrapeRecorder(Uri agent, TimeSpan interval) => _loop = RunAsync(agent, interval);

    public async Task<IReadOnlyList<Scrape>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return _scrapes;
    }

    public void Dispose()
    {
        _stop.Dispose();
        _http.Dispose();
    }

    private async Task RunAsync(Uri agent, TimeSpan interval)
    {
        var clock = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                _scrapes.Add(new Scrape(clock.Elapsed.TotalSeconds, await AgentMetrics.ReadAsync(_http, agent, _stop.Token)));
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
