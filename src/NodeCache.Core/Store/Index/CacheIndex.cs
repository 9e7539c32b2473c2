using FASTER.core;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>Owns the FASTER stores under the index folder (blobs/ and tags/); recovers the latest checkpoint on open.</summary>
public sealed class CacheIndex : IDisposable
{
    private readonly FasterTable<BlobValue, long, BlobFunctions> _blobs;
    private readonly FasterTable<TagValue, TagValue, SimpleFunctions<Digest, TagValue>> _tags;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _checkpointTurn = new(1, 1);

    private CacheIndex(
        FasterTable<BlobValue, long, BlobFunctions> blobs,
        FasterTable<TagValue, TagValue, SimpleFunctions<Digest, TagValue>> tags,
        ILogger logger)
    {
        _blobs = blobs;
        _tags = tags;
        _logger = logger;
        Blobs = new BlobIndex(blobs);
        Tags = new TagIndex(tags);
    }

    public BlobIndex Blobs { get; }

    public TagIndex Tags { get; }

    public bool HasUncheckpointedChanges => _blobs.HasUncheckpointedChanges || _tags.HasUncheckpointedChanges;

    /// <summary>Opens (or creates) the index in <paramref name="indexDirectory"/>. An index that cannot be recovered is logged and started empty.</summary>
    public static CacheIndex Open(string indexDirectory, ILogger logger) => Open(indexDirectory, logger, TableSizing.Blobs, TableSizing.Tags);

    internal static CacheIndex Open(string indexDirectory, ILogger logger, TableSizing blobSizing, TableSizing tagSizing)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var blobs = FasterTable<BlobValue, long, BlobFunctions>.Open(Path.Combine(indexDirectory, "blobs"), blobSizing, new BlobFunctions(), logger);
        try
        {
            var tags = FasterTable<TagValue, TagValue, SimpleFunctions<Digest, TagValue>>.Open(
                Path.Combine(indexDirectory, "tags"), tagSizing, new SimpleFunctions<Digest, TagValue>(), logger);
            logger.LogInformation(
                "Cache index opened in {Directory}: {BlobCount} blobs (checkpoint version {BlobVersion}), {TagCount} tags (checkpoint version {TagVersion})",
                indexDirectory, blobs.Count, blobs.RecoveredVersion, tags.Count, tags.RecoveredVersion);
            return new CacheIndex(blobs, tags, logger);
        }
        catch
        {
            blobs.Dispose();
            throw;
        }
    }

    /// <summary>Checkpoints both stores and waits until the checkpoints are durable; a store with no change since its last checkpoint is skipped.</summary>
    public async ValueTask CheckpointAsync(CancellationToken cancellationToken = default)
    {
        await _checkpointTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var blobs = await _blobs.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            var tags = await _tags.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            if (blobs || tags)
            {
                _logger.LogDebug("Cache index checkpointed: blobs {BlobsCheckpointed}, tags {TagsCheckpointed}", blobs, tags);
            }
        }
        finally
        {
            _checkpointTurn.Release();
        }
    }

    /// <summary>Releases the stores without a checkpoint: changes since the last <see cref="CheckpointAsync"/> are lost.</summary>
    public void Dispose()
    {
        _blobs.Dispose();
        _tags.Dispose();
        _checkpointTurn.Dispose();
    }
}
