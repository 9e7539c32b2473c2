using NodeCache.Agent.Configuration;
using NodeCache.Store.Blobs;

namespace NodeCache.Agent.Hosting;

/// <summary>Re-hashes the cache at <c>--scrub-rate</c>, one pass every <c>--scrub-interval</c>; off when the rate is 0.</summary>
internal sealed class ScrubLoop(BlobScrub scrub, AgentOptions options, ILogger<ScrubLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ScrubRate <= 0)
        {
            logger.LogInformation("Scrub is off (--scrub-rate 0)");
            return;
        }
        try
        {
            while (true)
            {
                await Task.Delay(options.ScrubInterval, stoppingToken).ConfigureAwait(false);
                await scrub.RunPassAsync(options.ScrubRate, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
