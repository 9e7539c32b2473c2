using NodeCache.Agent.Configuration;
using NodeCache.Store.Blobs;
using NodeCache.Store.Eviction;
using NodeCache.Telemetry;

namespace NodeCache.Agent.Hosting;

/// <summary>Runs an eviction pass every <c>--eviction-interval</c>, off the request path; while the disk is full, frees the reserve too.</summary>
internal sealed class EvictionLoop(BlobEviction eviction, DiskSpace space, CacheMetrics metrics, AgentOptions options, ILogger<EvictionLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Resolved here so the metrics exist from the start, before anything asks for them.
        _ = metrics;
        using var timer = new PeriodicTimer(options.EvictionInterval);
        try
        {
            do
            {
                try
                {
                    eviction.RunPass();
                    if (space.IsFull && !space.Recheck())
                    {
                        eviction.FreeUp(space.ReserveBytes);
                        space.Recheck();
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    logger.LogError(ex, "Eviction pass failed; the next one will retry");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
