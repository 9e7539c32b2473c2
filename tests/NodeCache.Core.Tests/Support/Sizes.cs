using NodeCache.Store.Index;

namespace NodeCache.Core.Tests.Support;

internal static class Sizes
{
    /// <summary>Four-KiB pages and 32 KiB of memory: a few dozen records push the oldest ones out to disk.</summary>
    public static TableSizing Tiny { get; } = new(IndexBytes: 1L << 12, MemoryBytes: 1L << 15, PageBytes: 1L << 12, SegmentBytes: 1L << 20);
}
