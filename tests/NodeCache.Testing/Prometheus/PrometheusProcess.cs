using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace NodeCache.Testing.Prometheus;

/// <summary>One target Prometheus scrapes, with the labels its scrape config gives every series (the chart's ServiceMonitor adds <c>node</c>).</summary>
public sealed record ScrapeTarget(string Job, string HostPort, IReadOnlyDictionary<string, string> Labels);

/// <summary>
/// A real Prometheus (Debian's <c>prometheus</c>) on 127.0.0.1 with its config and TSDB in a temp folder of its own,
/// scraping the given targets at a fixed interval; stopped by its PID.
/// </summary>
public sealed class PrometheusProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly TempFolder _folder;
    private readonly CapturedOutput _output;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private ChildProcess? _process;

    private PrometheusProcess(TempFolder folder, TimeSpan scrapeInterval)
    {
        _folder = folder;
        ScrapeInterval = scrapeInterval;
        BaseUri = new Uri($"http://127.0.0.1:{LoopbackPort.Next()}/");
        _output = new CapturedOutput(folder.Combine("prometheus.log"));
        Api = new PrometheusApi(BaseUri);
    }

    public Uri BaseUri { get; }

    public TimeSpan ScrapeInterval { get; }

    /// <summary>The HTTP query API: instant and range queries, label values.</summary>
    public PrometheusApi Api { get; }

    public int Pid => _process?.Pid ?? 0;

    public static async Task<PrometheusProcess> StartAsync(IReadOnlyList<ScrapeTarget> targets, TimeSpan scrapeInterval, CancellationToken cancellationToken = default)
    {
        var prometheus = new PrometheusProcess(TempFolder.Create("prom"), scrapeInterval);
        try
        {
            await prometheus.LaunchAsync(targets, cancellationToken);
            return prometheus;
        }
        catch
        {
            await prometheus.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until every target has been scraped after <paramref name="after"/>, so what the targets exported by then is
    /// in the TSDB; fails with the targets' state when that takes longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitForScrapeAfterAsync(DateTimeOffset after, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var targets = await Api.TargetsAsync(cancellationToken);
            if (targets.Count > 0 && targets.All(t => t.Health == "up" && t.LastScrape > after))
            {
                return;
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"Prometheus did not scrape every target after {after:O} within {timeout}: {string.Join("; ", targets)}\n{LogTail()}");
            }
            await Task.Delay(ScrapeInterval / 4, cancellationToken);
        }
    }

    public string LogTail(int lines = 40) => $"--- prometheus log tail ({_folder.Combine("prometheus.log")})\n{_output.Tail(lines)}";

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(10));
            await _process.DisposeAsync();
        }
        _output.Dispose();
        _http.Dispose();
        Api.Dispose();
        _folder.Dispose();
    }

    private async Task LaunchAsync(IReadOnlyList<ScrapeTarget> targets, CancellationToken cancellationToken)
    {
        var config = _folder.Combine("prometheus.yml");
        await File.WriteAllTextAsync(config, Config(targets), cancellationToken);
        _process = ChildProcess.Start(
            RequiredTools.Find("prometheus"),
            [
                "--config.file", config,
                "--storage.tsdb.path", _folder.Combine("data", create: true),
                "--web.listen-address", $"{BaseUri.Host}:{BaseUri.Port}",
                "--log.level", "info",
            ],
            _output,
            workingDirectory: _folder.Path);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.DrainOutputAsync(TimeSpan.FromSeconds(2));
                throw new InvalidOperationException($"prometheus exited with code {await _process.Exited} while starting\n{LogTail()}");
            }
            try
            {
                using var ready = await _http.GetAsync(new Uri(BaseUri, "-/ready"), cancellationToken);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Busy replaying its (empty) WAL.
            }
            if (clock.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"prometheus was not ready within {StartTimeout}\n{LogTail()}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    private string Config(IReadOnlyList<ScrapeTarget> targets)
    {
        var interval = $"{(int)ScrapeInterval.TotalMilliseconds}ms";
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n  evaluation_interval: {interval}\n");
        yaml.Append("scrape_configs:\n");
        foreach (var job in targets.GroupBy(t => t.Job))
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - job_name: \"{job.Key}\"\n    static_configs:\n");
            foreach (var target in job)
            {
                var labels = string.Join(", ", target.Labels.Select(l => $"{l.Key}: \"{l.Value}\""));
                yaml.Append(CultureInfo.InvariantCulture, $"      - targets: [\"{target.HostPort}\"]\n        labels: {{{labels}}}\n");
            }
        }
        return yaml.ToString();
    }
}
