using System.Numerics;
using System.Runtime.CompilerServices;

namespace NodeCache.Store.Index;

/// <summary>The memory and file sizes of one FASTER table, in bytes, each a power of two (FASTER rounds any other down to one).</summary>
/// <remarks>
/// Every table is sized by one rule, <see cref="For{TKey, TValue}"/>, from two counts of its own and the size of its records.
/// The hash index, page and segment sizes are part of a cache folder's format: FASTER recovers a checkpoint only into a
/// hash index of the size it was written with, and finds records in the log by page and segment. A change to the rule or
/// to a count that moves them is a change of format.
/// </remarks>
internal readonly record struct TableSizing(long IndexBytes, long MemoryBytes, long PageBytes, long SegmentBytes)
{
    // FASTER's hash bucket: a 64-byte cache line of eight entries, the last of which links an overflow bucket.
    private const int BucketBytes = 64;
    private const int KeysPerBucket = 7;

    // FASTER's RecordInfo, ahead of each record's key and value.
    private const int RecordHeaderBytes = 8;

    // At least 16 pages in memory: when the log outgrows memory, the head moves (and flushes) in small steps.
    private const int PagesInMemory = 16;
    private const long LargestPageBytes = 1L << 20;

    // 16 pages a log file: few files for a table's whole log, and space comes back in small steps once the log is truncated.
    private const int PagesPerSegment = 16;

    // The design point of a node's cache, at which perf/ measures the index.
    private const int NodeBlobs = 100_000;

    /// <summary>Blobs by sha256 digest: a record is 328 bytes (8 header, 32 key, 288 value); 100,000 blobs, all in memory.</summary>
    public static TableSizing Blobs { get; } = For<Sha256Key, BlobValue>(
        // 100,000 blobs fill under a quarter of the slots, so chains stay short.
        indexedRecords: 4 * NodeBlobs,
        // The whole table in memory, with room for the copies that updates append.
        recordsInMemory: 2 * NodeBlobs);

    /// <summary>Tags of sha256 manifests: a record is 992 bytes, most of it the inline name that lets tags be listed.</summary>
    public static TableSizing Tags { get; } = For<Sha256Key, TagValue<Sha256Key>>(
        // Room for 100,000 tags, far more than the images a node resolves by tag.
        indexedRecords: 100_000,
        // Older tags are read from disk, which a tag lookup (a miss costs a registry round trip) can afford.
        recordsInMemory: 16_000);

    /// <summary>
    /// Blobs by sha512 digest: a record is 360 bytes (8 header, 64 key, 288 value). Few registries serve sha512 content, so
    /// this table is sized for thousands of blobs, not the sha256 table's 100,000: it holds more, with longer chains and older
    /// records read from disk, rather than every node paying the memory for blobs it may never see.
    /// </summary>
    public static TableSizing Sha512Blobs { get; } = For<Sha512Key, BlobValue>(indexedRecords: 7_000, recordsInMemory: 11_000);

    /// <summary>Tags of sha512 manifests (keyed, as all tags are, by the SHA-256 of their name), sized as <see cref="Sha512Blobs"/> is.</summary>
    public static TableSizing Sha512Tags { get; } = For<Sha256Key, TagValue<Sha512Key>>(indexedRecords: 7_000, recordsInMemory: 4_000);

    /// <summary>
    /// The sizes of a table whose hash index holds <paramref name="indexedRecords"/> before its buckets overflow and whose log
    /// keeps <paramref name="recordsInMemory"/> records of <typeparamref name="TKey"/> and <typeparamref name="TValue"/> in memory.
    /// </summary>
    private static TableSizing For<TKey, TValue>(long indexedRecords, long recordsInMemory)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        var recordBytes = RecordHeaderBytes + Unsafe.SizeOf<TKey>() + Unsafe.SizeOf<TValue>();
        var buckets = PowerOfTwoAtLeast((indexedRecords + KeysPerBucket - 1) / KeysPerBucket);
        var memoryBytes = PowerOfTwoAtLeast(recordsInMemory * recordBytes);
        var pageBytes = Math.Min(LargestPageBytes, memoryBytes / PagesInMemory);
        return new(IndexBytes: buckets * BucketBytes, MemoryBytes: memoryBytes, PageBytes: pageBytes, SegmentBytes: pageBytes * PagesPerSegment);
    }

    private static long PowerOfTwoAtLeast(long value) => (long)BitOperations.RoundUpToPowerOf2((ulong)value);
}
