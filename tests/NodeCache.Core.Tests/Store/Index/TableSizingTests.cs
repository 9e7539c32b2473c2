using NodeCache.Store.Index;

namespace NodeCache.Core.Tests.Store.Index;

/// <summary>
/// A table's hash index, page and segment sizes are part of the cache folder's format: FASTER recovers a checkpoint only into a
/// hash index of the size it was written with, and finds records in the log by page and segment. A folder an earlier agent
/// wrote must open (ExistingCacheTests opens one), so the rule and its counts must keep giving these figures.
/// </summary>
public sealed class TableSizingTests
{
    [Fact]
    public void The_sha256_tables_keep_the_sizes_every_cache_folder_was_written_with()
    {
        Assert.Equal((1L << 22, 1L << 20, 1L << 24), Format(TableSizing.Blobs));
        Assert.Equal((1L << 20, 1L << 20, 1L << 24), Format(TableSizing.Tags));
    }

    [Fact]
    public void The_sha512_tables_keep_the_sizes_they_were_first_written_with()
    {
        Assert.Equal((1L << 16, 1L << 18, 1L << 22), Format(TableSizing.Sha512Blobs));
        Assert.Equal((1L << 16, 1L << 18, 1L << 22), Format(TableSizing.Sha512Tags));
    }

    private static (long IndexBytes, long PageBytes, long SegmentBytes) Format(TableSizing sizing) => (sizing.IndexBytes, sizing.PageBytes, sizing.SegmentBytes);
}
