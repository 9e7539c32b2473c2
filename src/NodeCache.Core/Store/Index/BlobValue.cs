namespace NodeCache.Store.Index;

/// <summary>A <see cref="BlobRecord"/> as FASTER stores it: blittable, times as UTC ticks, the media type inline.</summary>
internal struct BlobValue
{
    public long Size;
    public long CreatedAtTicks;
    public long LastAccessTicks;
    public BlobState State;
    public StoredMediaType MediaType;

    public static BlobValue From(in BlobRecord record) => new()
    {
        Size = record.Size,
        CreatedAtTicks = record.CreatedAt.UtcTicks,
        LastAccessTicks = record.LastAccessAt.UtcTicks,
        State = record.State,
        MediaType = StoredMediaType.From(record.MediaType),
    };

    public readonly BlobRecord ToRecord() => new(
        Size,
        MediaType.ToString(),
        State,
        new DateTimeOffset(CreatedAtTicks, TimeSpan.Zero),
        new DateTimeOffset(LastAccessTicks, TimeSpan.Zero));

    /// <summary>Moves the last access forward only, so hits that race each other cannot make a blob look older.</summary>
    public void Touch(long accessedAtTicks) => LastAccessTicks = Math.Max(LastAccessTicks, accessedAtTicks);
}
