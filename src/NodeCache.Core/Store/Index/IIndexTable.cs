namespace NodeCache.Store.Index;

/// <summary>What the cache index does with each of its tables, whatever their keys and records: count, checkpoint, close.</summary>
internal interface IIndexTable : IDisposable
{
    /// <summary>Live records.</summary>
    long Count { get; }

    /// <summary>The checkpoint version recovered on open; 1 when the table started empty.</summary>
    long RecoveredVersion { get; }

    bool HasUncheckpointedChanges { get; }

    /// <summary>Takes a checkpoint and waits until it is durable; false, and nothing written, when nothing changed since the last one.</summary>
    ValueTask<bool> CheckpointAsync(CancellationToken cancellationToken);
}
