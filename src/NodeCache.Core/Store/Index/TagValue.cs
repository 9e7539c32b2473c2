using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A <see cref="TagRecord"/> as FASTER stores it: blittable, with the tag's name inline so tags can be listed.</summary>
internal struct TagValue
{
    public Digest Digest;
    public long Size;
    public long FetchedAtTicks;
    public StoredMediaType MediaType;
    public StoredTagName Name;

    public static TagValue From(in StoredTagName name, in TagRecord record) => new()
    {
        Digest = record.Digest,
        Size = record.Size,
        FetchedAtTicks = record.FetchedAt.UtcTicks,
        MediaType = StoredMediaType.From(record.MediaType),
        Name = name,
    };

    public readonly TagRecord ToRecord() => new(Digest, MediaType.ToString(), Size, new DateTimeOffset(FetchedAtTicks, TimeSpan.Zero));
}
