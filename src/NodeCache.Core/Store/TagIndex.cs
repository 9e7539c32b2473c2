using FASTER.core;
using NodeCache.Oci;

namespace NodeCache.Store;

/// <summary>The FASTER KV from (registry, repository, tag) to <see cref="TagRecord"/>; safe to call from any thread.</summary>
/// <remarks>A registry is a host with an optional port, compared as given: callers pass it in one canonical form.</remarks>
public sealed class TagIndex
{
    private readonly FasterTable<TagValue, TagValue, SimpleFunctions<Digest, TagValue>> _table;

    internal TagIndex(FasterTable<TagValue, TagValue, SimpleFunctions<Digest, TagValue>> table) => _table = table;

    internal long Count => _table.Count;

    /// <summary>False as well for parts that cannot name a tag (an invalid tag, a registry with '/').</summary>
    public bool TryGet(string registry, RepositoryName repository, string tag, out TagRecord record)
    {
        if (StoredTagName.TryCreate(registry, repository, tag, out var name) && _table.TryRead(name.Key(), out var value))
        {
            record = value.ToRecord();
            return true;
        }
        record = default;
        return false;
    }

    /// <exception cref="ArgumentException">The parts cannot name a tag, or the media type is longer than 255 UTF-8 bytes.</exception>
    public void Upsert(string registry, RepositoryName repository, string tag, TagRecord record)
    {
        if (!StoredTagName.TryCreate(registry, repository, tag, out var name))
        {
            throw new ArgumentException($"'{registry}/{repository}:{tag}' does not name a tag (registry up to {StoredTagName.MaxRegistryLength} bytes without '/', tag by the spec's grammar)");
        }
        _table.Upsert(name.Key(), TagValue.From(name, record));
    }

    public bool Delete(string registry, RepositoryName repository, string tag) =>
        StoredTagName.TryCreate(registry, repository, tag, out var name) && _table.Delete(name.Key());

    /// <summary>A scan of the live tags with their names. Tags written while it runs may be left out.</summary>
    internal IEnumerable<TagEntry> Entries()
    {
        foreach (var (_, value) in _table.Entries())
        {
            yield return new(value.Name.Registry, value.Name.Repository, value.Name.Tag, value.ToRecord());
        }
    }
}
