using NodeCache.Oci;

namespace NodeCache.Store.Index;

/// <summary>A <see cref="TagRecord"/> as FASTER stores it: blittable, with the tag's name inline so tags can be listed.</summary>
/// <typeparam name="TTarget">The key type of the manifest's digest: each algorithm's manifests have their own tag table.</typeparam>
/// <remarks>With a <see cref="Sha256Key"/> target this is, field for field, the record the tag table has always held.</remarks>
internal struct TagValue<TTarget>
    where TTarget : unmanaged, IDigestKey<TTarget>
{
    public TTarget Digest;
    public long Size;
    public long FetchedAtTicks;
    public StoredMediaType MediaType;
    public StoredTagName Name;

    public static TagValue<TTarget> From(in StoredTagName name, in TagRecord record) => new()
    {
        Digest = TTarget.From(record.Digest),
        Size = record.Size,
        FetchedAtTicks = record.FetchedAt.UtcTicks,
        MediaType = StoredMediaType.From(record.MediaType),
        Name = name,
    };

    public readonly TagRecord ToRecord() => new(TTarget.ToDigest(Digest), MediaType.ToString(), Size, new DateTimeOffset(FetchedAtTicks, TimeSpan.Zero));
}
