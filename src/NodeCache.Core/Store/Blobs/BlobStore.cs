using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Store.Index;

namespace NodeCache.Store.Blobs;

/// <summary>Blob files plus their index: the only code that writes or removes blob files.</summary>
public sealed class BlobStore
{
    private readonly CacheLayout _layout;
    private readonly BlobIndex _index;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _usedBytes;

    public BlobStore(CacheLayout layout, BlobIndex index, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        (_layout, _index, _time, _logger) = (layout, index, time, logger);
    }

    /// <summary>The blobs being served now: removal passes them by.</summary>
    public BlobLeases Leases { get; } = new();

    /// <summary>Bytes of the committed blobs, as the index records them; set at start by <see cref="CacheRecovery"/>.</summary>
    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    /// <summary>Indexed blobs.</summary>
    public long Count => _index.Count;

    /// <summary>
    /// A committed blob whose file exists with the indexed size; touches last access. A record whose file is missing or of
    /// another size is dropped (with such a file) and false returned: a wrong-size file is never served. A blob an eviction
    /// or quarantine is removing is a miss already: its record may still be there, but no response can lease it.
    /// </summary>
    public bool TryGet(Digest digest, out CachedBlob blob)
    {
        blob = default;
        if (!_index.TryGet(digest, out var record) || record.State != BlobState.Committed || Leases.IsBeingRemoved(digest))
        {
            return false;
        }
        var path = _layout.BlobPath(digest);
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            _logger.LogWarning("Blob {Digest} is indexed but its file is gone; dropping the record", digest);
            Forget(digest, record.Size);
            return false;
        }
        if (file.Length != record.Size)
        {
            // Content is addressed by digest, so every good file of this digest has the indexed size: this one is damaged.
            _logger.LogWarning(
                "Blob {Digest} is indexed with {IndexedSize} bytes but its file has {FileSize}; dropping the record and the file",
                digest, record.Size, file.Length);
            Forget(digest, record.Size);
            DeleteFile(path);
            return false;
        }
        _index.Touch(digest, _time.GetUtcNow());
        blob = new CachedBlob(digest, path, record.Size, record.MediaType);
        return true;
    }

    /// <summary>
    /// <see cref="TryGet"/> and a lease in one step, for a response that sends the file: false for a miss, and for a blob
    /// an eviction or quarantine is removing, which is the miss it is about to be.
    /// </summary>
    public bool TryLease(Digest digest, out LeasedBlob leased)
    {
        leased = default;
        if (!TryGet(digest, out var blob) || !Leases.TryAcquire(digest, out var lease))
        {
            return false;
        }
        // Removed between the lookup and the lease: the lease keeps any later removal off, but this one is done.
        if (!Contains(digest))
        {
            lease.Dispose();
            return false;
        }
        leased = new LeasedBlob(blob, lease);
        return true;
    }

    /// <summary>
    /// True when the blob is indexed as committed with <paramref name="size"/> bytes; touches last access without looking at
    /// the file. For content the caller holds in memory, already verified: the index still decides what is cached.
    /// </summary>
    public bool TryTouch(Digest digest, long size)
    {
        if (!_index.TryGet(digest, out var record) || record.State != BlobState.Committed || record.Size != size)
        {
            return false;
        }
        _index.Touch(digest, _time.GetUtcNow());
        return true;
    }

    /// <summary>The committed blob's record and path without touching it or looking at its file (for eviction and scrub, which must not make a blob look used).</summary>
    public bool TryPeek(Digest digest, out CachedBlob blob)
    {
        if (_index.TryGet(digest, out var record) && record.State == BlobState.Committed)
        {
            blob = new CachedBlob(digest, _layout.BlobPath(digest), record.Size, record.MediaType);
            return true;
        }
        blob = default;
        return false;
    }

    /// <summary>True when the blob is indexed as committed; does not touch it or look at its file.</summary>
    public bool Contains(Digest digest) => _index.TryGet(digest, out var record) && record.State == BlobState.Committed;

    /// <summary>
    /// Moves a fully written, flushed temp file into place (atomic rename) and indexes it as committed. The caller verified
    /// size and digest already. Committing a digest again replaces its file with an identical one.
    /// </summary>
    /// <exception cref="ArgumentException">The media type is longer than 255 UTF-8 bytes; the temp file is left for the caller to discard.</exception>
    public CachedBlob Commit(string tempPath, Digest digest, long size, string mediaType)
    {
        using (MoveIntoPlace(tempPath, digest, mediaType, out var path))
        {
            Index(digest, size, mediaType);
            return new CachedBlob(digest, path, size, mediaType);
        }
    }

    /// <summary>
    /// The first half of <see cref="Commit"/>: moves a verified temp file to the blob's path (atomic rename). Until
    /// <see cref="Index"/> the blob is not cached: nothing finds it through the index, and a restart hashes it before
    /// indexing it.
    /// </summary>
    /// <returns>
    /// A lease to dispose once the blob is indexed (or given up). It keeps removals of the digest off from the move to the
    /// record: a removal that found an older copy's record would otherwise delete the new file, and leave the new record
    /// naming no file. The move first waits out a removal already under way.
    /// </returns>
    /// <param name="path">The blob's path in the cache, where the file is now.</param>
    /// <exception cref="ArgumentException">The media type is longer than 255 UTF-8 bytes; the temp file is left for the caller to discard.</exception>
    public BlobLease MoveIntoPlace(string tempPath, Digest digest, string mediaType, out string path)
    {
        ArgumentNullException.ThrowIfNull(tempPath);
        ArgumentNullException.ThrowIfNull(mediaType);
        // Checked before the rename: a file in place that the index then refuses would be served by nothing and evicted by nothing.
        if (!StoredMediaType.IsStorable(mediaType))
        {
            throw new ArgumentException($"media types are stored up to {StoredMediaType.MaxLength} UTF-8 bytes", nameof(mediaType));
        }
        path = _layout.BlobPath(digest);
        var lease = Leases.AcquireAfterRemoval(digest);
        try
        {
            File.Move(tempPath, path, overwrite: true);
            return lease;
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The second half of <see cref="Commit"/>: indexes the file <see cref="MoveIntoPlace"/> put in place, once its bytes
    /// are flushed to disk. The file goes into place before the record: a reader that finds the record always finds the file.
    /// </summary>
    public void Index(Digest digest, long size, string mediaType)
    {
        var now = _time.GetUtcNow();
        var replaced = _index.TryGet(digest, out var previous) ? previous.Size : 0;
        _index.Upsert(digest, new BlobRecord(size, mediaType, BlobState.Committed, now, now));
        Interlocked.Add(ref _usedBytes, size - replaced);
        _logger.LogDebug("Committed blob {Digest} ({Size} bytes, {MediaType})", digest, size, mediaType);
    }

    /// <summary>Writes small content (a manifest) through a temp file and <see cref="Commit"/>.</summary>
    /// <exception cref="ArgumentException">The content does not hash to <paramref name="digest"/>.</exception>
    public CachedBlob Put(Digest digest, ReadOnlySpan<byte> content, string mediaType)
    {
        if (!digest.Matches(content))
        {
            throw new ArgumentException($"content of digest {Digest.Compute(digest.Algorithm, content)} put as {digest}", nameof(content));
        }
        var tempPath = _layout.NewTempPath(digest);
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            return Commit(tempPath, digest, content.Length, mediaType);
        }
        catch
        {
            DiscardTemp(tempPath);
            throw;
        }
    }

    /// <summary>Deletes a temp file; never throws for a missing one.</summary>
    public void DiscardTemp(string tempPath)
    {
        ArgumentNullException.ThrowIfNull(tempPath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(tempPath));
        if (!string.Equals(directory, _layout.TempDirectory, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{tempPath}' is not a temp file of this cache", nameof(tempPath));
        }
        DeleteFile(tempPath);
    }

    /// <summary>At startup: deletes every leftover file in tmp/ (a fill that a crash interrupted is never visible). Returns how many.</summary>
    public int RemoveTempFiles()
    {
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(_layout.TempDirectory))
        {
            if (DeleteFile(path))
            {
                removed++;
            }
        }
        if (removed > 0)
        {
            _logger.LogInformation("Removed {Count} temp files left by interrupted fills", removed);
        }
        return removed;
    }

    /// <summary>
    /// Removes a committed blob (record first, then file) unless it is being served. A reader that found the record just
    /// before holds a lease or fails to take one, so no response loses its file half way.
    /// </summary>
    public BlobRemoval TryRemove(Digest digest) => Remove(digest, quarantine: false);

    /// <summary>Moves a blob whose bytes are not its digest's into quarantine/ and forgets it: the next request fetches it again.</summary>
    public BlobRemoval Quarantine(Digest digest) => Remove(digest, quarantine: true);

    /// <summary>Indexes a blob file already in place (found at start without a record, and verified by the caller).</summary>
    internal void Adopt(Digest digest, long size, string mediaType)
    {
        var now = _time.GetUtcNow();
        _index.Upsert(digest, new BlobRecord(size, mediaType, BlobState.Committed, now, now));
        Interlocked.Add(ref _usedBytes, size);
    }

    /// <summary>Drops a record whose file is gone or wrong; the caller deals with the file.</summary>
    internal void Forget(Digest digest, long size)
    {
        if (_index.Delete(digest))
        {
            Interlocked.Add(ref _usedBytes, -size);
        }
    }

    internal void SetUsedBytes(long bytes) => Interlocked.Exchange(ref _usedBytes, bytes);

    internal bool DeleteStrayFile(string path) => DeleteFile(path);

    private BlobRemoval Remove(Digest digest, bool quarantine)
    {
        if (!Leases.TryBeginRemoval(digest))
        {
            return BlobRemoval.InUse;
        }
        try
        {
            if (!_index.TryGet(digest, out var record))
            {
                return BlobRemoval.NotCached;
            }
            Forget(digest, record.Size);
            var path = _layout.BlobPath(digest);
            if (quarantine)
            {
                Directory.CreateDirectory(_layout.QuarantineDirectory);
                try
                {
                    File.Move(path, Path.Combine(_layout.QuarantineDirectory, $"{digest.Hex}.{_time.GetUtcNow().UtcTicks}"), overwrite: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _logger.LogWarning(e, "Could not move {Digest} into quarantine; deleting it", digest);
                    DeleteFile(path);
                }
            }
            else
            {
                DeleteFile(path);
            }
            return BlobRemoval.Removed;
        }
        finally
        {
            Leases.EndRemoval(digest);
        }
    }

    // Used on failure and clean-up paths, where a second exception would hide the first: a file that stays is logged and
    // is removed at the next start (temp) or replaced by the next fill of its digest (blob).
    private bool DeleteFile(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(e, "Could not delete {Path}", path);
            return false;
        }
    }
}
