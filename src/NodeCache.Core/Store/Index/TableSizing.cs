namespace NodeCache.Store.Index;

/// <summary>The memory and file sizes of one FASTER table, in bytes (FASTER rounds each down to a power of two).</summary>
internal readonly record struct TableSizing(long IndexBytes, long MemoryBytes, long PageBytes, long SegmentBytes)
{
    /// <summary>A blob record is 328 bytes (8 header, 32 key, 288 value).</summary>
    public static TableSizing Blobs { get; } = new(
        // 2^16 buckets of 64 bytes, 7 keys each: 100,000 blobs fill under a quarter of the slots, so chains stay short.
        IndexBytes: 1L << 22,
        // 100,000 records are 31 MiB: 64 MiB keeps the whole index in memory with room for the copies that updates append.
        MemoryBytes: 1L << 26,
        // 64 pages in memory: when the log outgrows memory, the head moves (and flushes) in small steps.
        PageBytes: 1L << 20,
        // 16 MiB log files: few files for a 100,000-blob log, and space comes back in small steps once the log is truncated.
        SegmentBytes: 1L << 24);

    /// <summary>A tag record is 992 bytes, most of it the inline name that lets tags be listed.</summary>
    public static TableSizing Tags { get; } = new(
        // 2^14 buckets: room for 100,000 tags, far more than the images a node resolves by tag.
        IndexBytes: 1L << 20,
        // 16,000 tags in memory; older ones are read from disk, which a tag lookup (a miss costs a registry round trip) can afford.
        MemoryBytes: 1L << 24,
        PageBytes: 1L << 20,
        SegmentBytes: 1L << 24);

    /// <summary>
    /// A sha512 blob record is 360 bytes (8 header, 64 key, 288 value). Few registries serve sha512 content, so this table
    /// is sized for thousands of blobs, not the sha256 table's 100,000: it holds more, with longer chains and older records
    /// read from disk, rather than every node paying the memory for blobs it may never see.
    /// </summary>
    public static TableSizing Sha512Blobs { get; } = new(
        // 2^10 buckets of 7 keys: 7,000 blobs before a bucket overflows.
        IndexBytes: 1L << 16,
        // 11,000 records in memory.
        MemoryBytes: 1L << 22,
        PageBytes: 1L << 18,
        SegmentBytes: 1L << 22);

    /// <summary>Tags of sha512 manifests, sized as <see cref="Sha512Blobs"/> is against <see cref="Blobs"/>.</summary>
    public static TableSizing Sha512Tags { get; } = new(
        IndexBytes: 1L << 16,
        // 4,000 tags in memory.
        MemoryBytes: 1L << 22,
        PageBytes: 1L << 18,
        SegmentBytes: 1L << 22);
}
