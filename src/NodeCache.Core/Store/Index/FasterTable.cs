using System.Collections.Concurrent;
using FASTER.core;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>
/// One FASTER KV keyed by digests of one algorithm, in its own folder: the log, its checkpoints, and a pool of sessions so
/// any thread can call it.
/// </summary>
/// <typeparam name="TKey">The key: a digest of the table's algorithm, stored as its hash alone.</typeparam>
/// <typeparam name="TValue">The blittable record stored inline in the log.</typeparam>
/// <typeparam name="TInput">The RMW input <typeparamref name="TFunctions"/> understands.</typeparam>
/// <typeparam name="TFunctions">How FASTER reads, writes and updates <typeparamref name="TValue"/>.</typeparam>
internal sealed class FasterTable<TKey, TValue, TInput, TFunctions> : IDigestTable<TValue, TInput>
    where TKey : unmanaged, IDigestKey<TKey>
    where TValue : unmanaged
    where TInput : unmanaged
    where TFunctions : IFunctions<TKey, TValue, TInput, TValue, Empty>
{
    // Idle sessions kept for reuse. A burst of callers beyond this (threads blocked on disk reads) gets sessions that are
    // disposed on return rather than kept for ever.
    private const int MaxIdleSessions = 64;

    // Upserts and deletes of digests in the same stripe take turns, so each knows whether the key existed and Count stays
    // exact. They happen once per fill or eviction, so 64 stripes make contention between unrelated digests negligible.
    // Reads and touches, the per-request path, take no lock.
    private const int LockStripes = 64;

    private readonly FasterKV<TKey, TValue> _store;
    private readonly IDevice _device;
    private readonly TFunctions _functions;
    private readonly ConcurrentQueue<ClientSession<TKey, TValue, TInput, TValue, Empty, TFunctions>> _idle = new();
    private readonly Lock[] _stripes = Enumerable.Range(0, LockStripes).Select(_ => new Lock()).ToArray();
    private int _idleCount;
    private long _count;
    private long _changes;
    private long _checkpointedChanges;
    private int _disposed;

    private FasterTable(string directory, TableSizing sizing, TFunctions functions)
    {
        _functions = functions;
        _device = Devices.CreateLogDevice(Path.Combine(directory, "hlog"), recoverDevice: true);
        var settings = new FasterKVSettings<TKey, TValue>
        {
            IndexSize = sizing.IndexBytes,
            LogDevice = _device,
            MemorySize = sizing.MemoryBytes,
            PageSize = sizing.PageBytes,
            SegmentSize = sizing.SegmentBytes,
            EqualityComparer = DigestKeyComparer<TKey>.Instance,
            // Readers copy a whole value while touches update it in place: the lock table keeps those copies untorn.
            ConcurrencyControlMode = ConcurrencyControlMode.LockTable,
            // Entries() tells the latest record of a key by its address; a read that copied records to the tail would move it.
            ReadCopyOptions = ReadCopyOptions.None,
            CheckpointDir = CheckpointDirectory(directory),
            RemoveOutdatedCheckpoints = true,
            TryRecoverLatest = true,
        };
        try
        {
            _store = new FasterKV<TKey, TValue>(settings);
        }
        catch
        {
            _device.Dispose();
            throw;
        }
    }

    /// <summary>Live records.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The checkpoint version recovered on open; 1 when the table started empty.</summary>
    public long RecoveredVersion => _store.RecoveredVersion;

    public bool HasUncheckpointedChanges => Interlocked.Read(ref _changes) != Interlocked.Read(ref _checkpointedChanges);

    /// <summary>
    /// Opens the table in <paramref name="directory"/>, recovering its latest checkpoint. A table that cannot be recovered is
    /// logged, deleted and started empty: it is a cache index, and a node that cannot start serves nothing at all.
    /// </summary>
    public static FasterTable<TKey, TValue, TInput, TFunctions> Open(string directory, TableSizing sizing, TFunctions functions, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        try
        {
            return OpenAndCount(directory, sizing, functions);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "The index in {Directory} could not be recovered; deleting it and starting empty", directory);
            Directory.Delete(directory, recursive: true);
            Directory.CreateDirectory(directory);
            return OpenAndCount(directory, sizing, functions);
        }
    }

    public bool TryRead(Digest digest, out TValue value)
    {
        var key = KeyOf(digest);
        var session = Rent();
        try
        {
            return Read(session, ref key, out value, out _);
        }
        finally
        {
            Return(session);
        }
    }

    public void Upsert(Digest digest, TValue value)
    {
        var key = KeyOf(digest);
        lock (StripeOf(key))
        {
            var session = Rent();
            try
            {
                var existed = Read(session, ref key, out _, out _);
                if (session.Upsert(ref key, ref value).IsPending)
                {
                    session.CompletePending(wait: true);
                }
                if (!existed)
                {
                    Interlocked.Increment(ref _count);
                }
            }
            finally
            {
                Return(session);
            }
        }
        // Counted after the write, never before: a checkpoint that samples the count then misses the write stays dirty.
        Interlocked.Increment(ref _changes);
    }

    /// <summary>Applies <paramref name="input"/> to the key's record through RMW; false when there is no record.</summary>
    public bool Update(Digest digest, TInput input)
    {
        var key = KeyOf(digest);
        bool found;
        var session = Rent();
        try
        {
            TValue output = default;
            var status = session.RMW(ref key, ref input, ref output);
            found = status.Found;
            if (status.IsPending)
            {
                session.CompletePendingWithOutputs(out var completed, wait: true);
                using (completed)
                {
                    found = completed.Next() && completed.Current.Status.Found;
                }
            }
        }
        finally
        {
            Return(session);
        }
        if (found)
        {
            Interlocked.Increment(ref _changes);
        }
        return found;
    }

    /// <summary>False when there was no record to delete.</summary>
    public bool Delete(Digest digest)
    {
        var key = KeyOf(digest);
        bool existed;
        lock (StripeOf(key))
        {
            var session = Rent();
            try
            {
                // FASTER deletes blindly (a tombstone) when the record is on disk, so ask first.
                existed = Read(session, ref key, out _, out _);
                if (existed)
                {
                    if (session.Delete(ref key).IsPending)
                    {
                        session.CompletePending(wait: true);
                    }
                    Interlocked.Decrement(ref _count);
                }
            }
            finally
            {
                Return(session);
            }
        }
        if (existed)
        {
            Interlocked.Increment(ref _changes);
        }
        return existed;
    }

    /// <summary>
    /// The latest value of every live key, by a scan of the log up to its tail when the scan starts. A key written while the
    /// scan runs may be left out (its newest record lies past the scan's end); no key is yielded twice.
    /// </summary>
    public IEnumerable<KeyValuePair<Digest, TValue>> Entries()
    {
        // FASTER's own Iterate() builds a temporary store to drop superseded records: tens of megabytes on every call, however
        // small the log. Here a record is the key's latest when a read of the key lands on its address: a lookup, no memory.
        using var scan = _store.Log.Scan(_store.Log.BeginAddress, _store.Log.TailAddress);
        while (scan.GetNext(out var recordInfo))
        {
            if (recordInfo.Tombstone)
            {
                continue;
            }
            var key = scan.GetKey();
            var address = scan.CurrentAddress;
            var session = Rent();
            bool latest;
            TValue value;
            try
            {
                latest = Read(session, ref key, out value, out var latestAddress) && latestAddress == address;
            }
            finally
            {
                Return(session);
            }
            if (latest)
            {
                yield return new(TKey.ToDigest(key), value);
            }
        }
    }

    /// <summary>Takes a full checkpoint (index and log) and waits until it is durable; false, and nothing written, when nothing changed since the last one.</summary>
    /// <remarks>Callers take turns: FASTER runs one checkpoint at a time.</remarks>
    public async ValueTask<bool> CheckpointAsync(CancellationToken cancellationToken)
    {
        var changes = Interlocked.Read(ref _changes);
        if (changes == Interlocked.Read(ref _checkpointedChanges))
        {
            return false;
        }
        // Snapshot, not fold-over: fold-over would make every record read-only, turning the next touch of each blob into an
        // appended copy and growing the log. A snapshot writes the mutable part of the log aside and leaves it mutable.
        var (started, _) = await _store.TakeFullCheckpointAsync(CheckpointType.Snapshot, cancellationToken).ConfigureAwait(false);
        if (!started)
        {
            // A checkpoint whose caller was cancelled may still be running: let it finish, then take ours.
            await _store.CompleteCheckpointAsync(cancellationToken).ConfigureAwait(false);
            (started, _) = await _store.TakeFullCheckpointAsync(CheckpointType.Snapshot, cancellationToken).ConfigureAwait(false);
            if (!started)
            {
                throw new InvalidOperationException("FASTER refused to start a checkpoint although none was running");
            }
        }
        Interlocked.Exchange(ref _checkpointedChanges, changes);
        return true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        while (_idle.TryDequeue(out var session))
        {
            session.Dispose();
        }
        _store.Dispose();
        _device.Dispose();
    }

    private static FasterTable<TKey, TValue, TInput, TFunctions> OpenAndCount(string directory, TableSizing sizing, TFunctions functions)
    {
        var table = new FasterTable<TKey, TValue, TInput, TFunctions>(directory, sizing, functions);
        try
        {
            // FASTER starts empty, without a word, when no checkpoint it finds is readable.
            if (table.RecoveredVersion <= 1 && HoldsCheckpoints(directory))
            {
                throw new InvalidDataException("the folder holds checkpoints but none of them could be read");
            }
            // Counted once on open; after that every upsert and delete keeps the count.
            table._count = table.Entries().LongCount();
            return table;
        }
        catch
        {
            table.Dispose();
            throw;
        }
    }

    private static string CheckpointDirectory(string directory) => Path.Combine(directory, "checkpoints");

    private static bool HoldsCheckpoints(string directory) =>
        Directory.Exists(CheckpointDirectory(directory))
        && Directory.EnumerateFiles(CheckpointDirectory(directory), "*", SearchOption.AllDirectories).Any();

    private static bool Read(ClientSession<TKey, TValue, TInput, TValue, Empty, TFunctions> session, ref TKey key, out TValue value, out long address)
    {
        TInput input = default;
        TValue output = default;
        ReadOptions options = default;
        var status = session.Read(ref key, ref input, ref output, ref options, out var metadata);
        var found = status.Found;
        if (status.IsPending)
        {
            // The record is on disk. The session is this caller's alone, so the only pending operation is this read.
            session.CompletePendingWithOutputs(out var completed, wait: true);
            using (completed)
            {
                found = completed.Next() && completed.Current.Status.Found;
                if (found)
                {
                    output = completed.Current.Output;
                    metadata = completed.Current.RecordMetadata;
                }
            }
        }
        value = output;
        address = metadata.Address;
        return found;
    }

    private ClientSession<TKey, TValue, TInput, TValue, Empty, TFunctions> Rent()
    {
        if (_idle.TryDequeue(out var session))
        {
            Interlocked.Decrement(ref _idleCount);
            return session;
        }
        return _store.For(_functions).NewSession<TFunctions>();
    }

    private void Return(ClientSession<TKey, TValue, TInput, TValue, Empty, TFunctions> session)
    {
        if (Interlocked.Increment(ref _idleCount) <= MaxIdleSessions)
        {
            _idle.Enqueue(session);
            return;
        }
        Interlocked.Decrement(ref _idleCount);
        session.Dispose();
    }

    private Lock StripeOf(TKey key) => _stripes[DigestKeyComparer<TKey>.Instance.GetHashCode64(ref key) & (LockStripes - 1)];

    private static TKey KeyOf(in Digest digest)
    {
        if (digest.Algorithm != TKey.Algorithm)
        {
            throw new ArgumentException($"{digest} is not a {TKey.Algorithm.Name} digest, the key of this table", nameof(digest));
        }
        return TKey.From(digest);
    }
}
