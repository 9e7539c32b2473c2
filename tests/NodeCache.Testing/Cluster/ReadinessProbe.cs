using System.Net;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// The kubelet's readiness probe of one agent: <c>GET /readyz</c> on the node's own loopback every <see cref="Period"/>,
/// ready after one success, not ready after <see cref="FailureThreshold"/> failures in a row (a refused connection, a
/// timeout, any status but 200). Each change of state is reported, which the endpoints follow.
/// </summary>
public sealed class ReadinessProbe : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _readyz;
    private readonly Action<bool> _changed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ReadinessProbe(NetworkNamespace machine, int port, TimeSpan period, int failureThreshold, Action<bool> changed)
    {
        Period = period;
        FailureThreshold = failureThreshold;
        _changed = changed;
        _readyz = new Uri($"http://127.0.0.1:{port}/readyz");
        // The probe's timeout is its period at most, as the kubelet's timeoutSeconds is kept below periodSeconds.
        _http = new HttpClient(machine.CreateHandler(period)) { Timeout = period };
        _loop = Task.Run(LoopAsync);
    }

    public TimeSpan Period { get; }

    public int FailureThreshold { get; }

    public bool Ready { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _http.Dispose();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        var failures = 0;
        using var timer = new PeriodicTimer(Period);
        do
        {
            bool passed;
            try
            {
                using var response = await _http.GetAsync(_readyz, _stop.Token);
                passed = response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !_stop.IsCancellationRequested))
            {
                passed = false;
            }
            failures = passed ? 0 : failures + 1;
            if (passed && !Ready)
            {
                Ready = true;
                _changed(true);
            }
            else if (!passed && Ready && failures >= FailureThreshold)
            {
                Ready = false;
                _changed(false);
            }
        }
        while (await timer.WaitForNextTickAsync(_stop.Token));
    }
}
