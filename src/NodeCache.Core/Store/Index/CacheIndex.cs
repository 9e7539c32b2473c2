using FASTER.core;
using Microsoft.Extensions.Logging;

namespace NodeCache.Store.Index;

/// <summary>
/// Owns the FASTER stores under the index folder and recovers the latest checkpoint of each on open: blobs/ and tags/ for
/// sha256 digests (the tables every cache has had since its first version, unchanged), blobs-sha512/ and tags-sha512/ for
/// sha512 ones.
/// </summary>
public sealed class CacheIndex : IDisposable
{
    private readonly IIndexTable[] _tables;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _checkpointTurn = new(1, 1);

    private CacheIndex(
        FasterTable<Sha256Key, BlobValue, long, BlobFunctions<Sha256Key>> sha256Blobs,
        FasterTable<Sha512Key, BlobValue, long, BlobFunctions<Sha512Key>> sha512Blobs,
        FasterTable<Sha256Key, TagValue<Sha256Key>, TagValue<Sha256Key>, SimpleFunctions<Sha256Key, TagValue<Sha256Key>>> sha256Tags,
        FasterTable<Sha256Key, TagValue<Sha512Key>, TagValue<Sha512Key>, SimpleFunctions<Sha256Key, TagValue<Sha512Key>>> sha512Tags,
        ILogger logger)
    {
        _tables = [sha256Blobs, sha512Blobs, sha256Tags, sha512Tags];
        _logger = logger;
        // In DigestAlgorithm order.
        Blobs = new BlobIndex([sha256Blobs, sha512Blobs]);
        // Tags are keyed by the SHA-256 of their name in both tables; the value's digest is what differs.
        Tags = new TagIndex(sha256Tags, sha512Tags);
    }

    public BlobIndex Blobs { get; }

    public TagIndex Tags { get; }

    public bool HasUncheckpointedChanges => _tables.Any(table => table.HasUncheckpointedChanges);

    /// <summary>Opens (or creates) the index in <paramref name="indexDirectory"/>. A table that cannot be recovered is logged and started empty.</summary>
    public static CacheIndex Open(string indexDirectory, ILogger logger) => Open(indexDirectory, logger, TableSizing.Blobs, TableSizing.Tags);

    internal static CacheIndex Open(string indexDirectory, ILogger logger, TableSizing blobSizing, TableSizing tagSizing) =>
        Open(indexDirectory, logger, blobSizing, tagSizing, TableSizing.Sha512Blobs, TableSizing.Sha512Tags);

    internal static CacheIndex Open(
        string indexDirectory, ILogger logger, TableSizing blobSizing, TableSizing tagSizing, TableSizing sha512BlobSizing, TableSizing sha512TagSizing)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var opened = new List<IIndexTable>();
        try
        {
            var sha256Blobs = Opened(opened, FasterTable<Sha256Key, BlobValue, long, BlobFunctions<Sha256Key>>.Open(
                Path.Combine(indexDirectory, "blobs"), blobSizing, new BlobFunctions<Sha256Key>(), logger));
            var sha512Blobs = Opened(opened, FasterTable<Sha512Key, BlobValue, long, BlobFunctions<Sha512Key>>.Open(
                Path.Combine(indexDirectory, "blobs-sha512"), sha512BlobSizing, new BlobFunctions<Sha512Key>(), logger));
            var sha256Tags = Opened(opened, FasterTable<Sha256Key, TagValue<Sha256Key>, TagValue<Sha256Key>, SimpleFunctions<Sha256Key, TagValue<Sha256Key>>>.Open(
                Path.Combine(indexDirectory, "tags"), tagSizing, new SimpleFunctions<Sha256Key, TagValue<Sha256Key>>(), logger));
            var sha512Tags = Opened(opened, FasterTable<Sha256Key, TagValue<Sha512Key>, TagValue<Sha512Key>, SimpleFunctions<Sha256Key, TagValue<Sha512Key>>>.Open(
                Path.Combine(indexDirectory, "tags-sha512"), sha512TagSizing, new SimpleFunctions<Sha256Key, TagValue<Sha512Key>>(), logger));
            logger.LogInformation(
                "Cache index opened in {Directory}: {BlobCount} blobs (checkpoint version {BlobVersion}; {Sha512BlobCount} of them sha512), {TagCount} tags (checkpoint version {TagVersion}; {Sha512TagCount} of sha512 manifests)",
                indexDirectory, sha256Blobs.Count + sha512Blobs.Count, sha256Blobs.RecoveredVersion, sha512Blobs.Count,
                sha256Tags.Count + sha512Tags.Count, sha256Tags.RecoveredVersion, sha512Tags.Count);
            return new CacheIndex(sha256Blobs, sha512Blobs, sha256Tags, sha512Tags, logger);
        }
        catch
        {
            foreach (var table in opened)
            {
                table.Dispose();
            }
            throw;
        }
    }

    /// <summary>Checkpoints every store and waits until the checkpoints are durable; a store with no change since its last checkpoint is skipped.</summary>
    public async ValueTask CheckpointAsync(CancellationToken cancellationToken = default)
    {
        await _checkpointTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var written = 0;
            foreach (var table in _tables)
            {
                if (await table.CheckpointAsync(cancellationToken).ConfigureAwait(false))
                {
                    written++;
                }
            }
            if (written > 0)
            {
                _logger.LogDebug("Cache index checkpointed: {Tables} of {Count} tables had changes", written, _tables.Length);
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
        foreach (var table in _tables)
        {
            table.Dispose();
        }
        _checkpointTurn.Dispose();
    }

    private static T Opened<T>(List<IIndexTable> opened, T table)
        where T : IIndexTable
    {
        opened.Add(table);
        return table;
    }
}
