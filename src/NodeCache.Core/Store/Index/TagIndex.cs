using System.Collections.Concurrent;
using FASTER.core;
using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>
/// The FASTER KV from (registry, repository, tag) to <see cref="TagRecord"/>, with the tags read recently held in memory;
/// safe to call from any thread.
/// </summary>
/// <remarks>A registry is a host with an optional port, compared as given: callers pass it in one canonical form.</remarks>
public sealed class TagIndex
{
    // A node pulls a few hundred tags at most; past this many the memory starts over, and hot tags come back on their next read.
    private const int RecentCapacity = 4096;

    private readonly FasterTable<TagValue, TagValue, SimpleFunctions<Digest, TagValue>> _table;

    // A by-tag request that finds its tag here costs a dictionary lookup instead of a SHA-256 of the name and a FASTER read.
    // Writes and reads that fill it take the gate, so it never holds a record older than the table's.
    private readonly ConcurrentDictionary<TagName, TagRecord> _recent = new();
    private readonly Lock _gate = new();
    private int _remembered;

    internal TagIndex(FasterTable<TagValue, TagValue, SimpleFunctions<Digest, TagValue>> table) => _table = table;

    internal long Count => _table.Count;

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
            if (!_table.TryRead(name.Key(), out var value))
            {
                return false;
            }
            record = value.ToRecord();
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
            _table.Upsert(name.Key(), TagValue.From(name, record));
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
            return _table.Delete(name.Key());
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
        foreach (var (_, value) in _table.Entries())
        {
            yield return new(value.Name.Registry, value.Name.Repository, value.Name.Tag, value.ToRecord());
        }
    }

    private readonly record struct TagName(string Registry, string Repository, string Tag);
}
