using System.Collections.Concurrent;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>
/// The FASTER KVs from (registry, repository, tag) to <see cref="TagRecord"/>, with the tags read recently held in memory;
/// safe to call from any thread. A tag's record lives in the table of its manifest digest's algorithm: the sha256 table
/// keeps the record layout it has always had, and tags of sha512 manifests have a table of their own.
/// </summary>
/// <remarks>A registry is a host with an optional port, compared as given: callers pass it in one canonical form.</remarks>
public sealed class TagIndex
{
    // A node pulls a few hundred tags at most; past this many the memory starts over, and hot tags come back on their next read.
    private const int RecentCapacity = 4096;

    private readonly IDigestTable<TagValue<Sha256Key>, TagValue<Sha256Key>> _sha256;
    private readonly IDigestTable<TagValue<Sha512Key>, TagValue<Sha512Key>> _sha512;

    // A by-tag request that finds its tag here costs a dictionary lookup instead of a SHA-256 of the name and a FASTER read.
    // Writes and reads that fill it take the gate, so it never holds a record older than the table's.
    private readonly ConcurrentDictionary<TagName, TagRecord> _recent = new();
    private readonly Lock _gate = new();
    private int _remembered;

    internal TagIndex(IDigestTable<TagValue<Sha256Key>, TagValue<Sha256Key>> sha256, IDigestTable<TagValue<Sha512Key>, TagValue<Sha512Key>> sha512) =>
        (_sha256, _sha512) = (sha256, sha512);

    internal long Count => _sha256.Count + _sha512.Count;

    /// <summary>False as well for parts that cannot name a tag (an invalid tag, a registry with '/').</summary>
    public bool TryGet(string registry, RepositoryName repository, string tag, out TagRecord record)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var recent = new TagName(registry, repository.Value, tag);
        if (_recent.TryGetValue(recent, out record))
        {
            return true;
        }
        if (!StoredTagName.TryCreate(registry, repository, tag, out var name))
        {
            return false;
        }
        lock (_gate)
        {
            if (!TryRead(name.Key(), out record))
            {
                return false;
            }
            Remember(recent, record);
            return true;
        }
    }

    /// <exception cref="ArgumentException">The parts cannot name a tag, or the media type is longer than 255 UTF-8 bytes.</exception>
    public void Upsert(string registry, RepositoryName repository, string tag, TagRecord record)
    {
        if (!StoredTagName.TryCreate(registry, repository, tag, out var name))
        {
            throw new ArgumentException($"'{registry}/{repository}:{tag}' does not name a tag (registry up to {StoredTagName.MaxRegistryLength} bytes without '/', tag by the spec's grammar)");
        }
        lock (_gate)
        {
            var key = name.Key();
            if (record.Digest.Algorithm == DigestAlgorithm.Sha512)
            {
                _sha512.Upsert(key, TagValue<Sha512Key>.From(name, record));
                _sha256.Delete(key);
            }
            else
            {
                _sha256.Upsert(key, TagValue<Sha256Key>.From(name, record));
                if (_sha512.Count > 0)
                {
                    _sha512.Delete(key);
                }
            }
            Remember(new TagName(registry, repository.Value, tag), record);
        }
    }

    public bool Delete(string registry, RepositoryName repository, string tag)
    {
        if (!StoredTagName.TryCreate(registry, repository, tag, out var name))
        {
            return false;
        }
        lock (_gate)
        {
            _recent.TryRemove(new TagName(registry, repository.Value, tag), out _);
            var key = name.Key();
            // Both, unconditionally: a record left in the other table would name the tag again.
            return _sha256.Delete(key) | _sha512.Delete(key);
        }
    }

    private void Remember(TagName name, TagRecord record)
    {
        if (++_remembered > RecentCapacity)
        {
            _recent.Clear();
            _remembered = 1;
        }
        _recent[name] = record;
    }

    /// <summary>A scan of the live tags with their names. Tags written while it runs may be left out.</summary>
    internal IEnumerable<TagEntry> Entries()
    {
        var both = _sha256.Count > 0 && _sha512.Count > 0;
        foreach (var (key, value) in _sha256.Entries())
        {
            if (Current(key, value.ToRecord(), both) is { } record)
            {
                yield return new(value.Name.Registry, value.Name.Repository, value.Name.Tag, record);
            }
        }
        foreach (var (key, value) in _sha512.Entries())
        {
            if (Current(key, value.ToRecord(), both) is { } record)
            {
                yield return new(value.Name.Registry, value.Name.Repository, value.Name.Tag, record);
            }
        }
    }

    // A tag names one manifest, so it has one record. A crash between the write to one table and the delete from the
    // other can leave one in each (each table recovers its own checkpoint): the later fetch is the tag's.
    private bool TryRead(Digest key, out TagRecord record)
    {
        var found = Read(_sha256, key, out record);
        if (_sha512.Count > 0 && Read(_sha512, key, out var other) && (!found || other.FetchedAt > record.FetchedAt))
        {
            (record, found) = (other, true);
        }
        return found;
    }

    private static bool Read<TTarget>(IDigestTable<TagValue<TTarget>, TagValue<TTarget>> table, Digest key, out TagRecord record)
        where TTarget : unmanaged, IDigestKey<TTarget>
    {
        var found = table.TryRead(key, out var value);
        record = found ? value.ToRecord() : default;
        return found;
    }

    private TagRecord? Current(Digest key, TagRecord record, bool checkOther) =>
        !checkOther || (TryRead(key, out var current) && current == record) ? record : null;

    private readonly record struct TagName(string Registry, string Repository, string Tag);
}
