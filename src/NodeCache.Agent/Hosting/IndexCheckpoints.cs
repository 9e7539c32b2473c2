using NodeCache.Agent.Configuration;
using NodeCache.Store.Index;

namespace NodeCache.Agent.Hosting;

/// <summary>Checkpoints the index while it changes, and once more at shutdown, so a restart recovers what was cached.</summary>
internal sealed class IndexCheckpoints(CacheIndex index, AgentOptions options, ILogger<IndexCheckpoints> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CheckpointInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await CheckpointAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await CheckpointAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Index checkpointed at shutdown: {Blobs} blobs", index.Blobs.Count);
    }

    private async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        if (!index.HasUncheckpointedChanges)
        {
            return;
        }
        try
        {
            await index.CheckpointAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            logger.LogError(ex, "Index checkpoint failed; the next one will retry");
        }
    }
}
