namespace NodeCache.PerfHarness.Measurement;

/// <summary>
/// The order peers run in within a repetition, shifted by one each repetition: on a shared machine the first and last
/// slots see different neighbours, page-cache states and CPU frequencies, so no peer may hold the same slot every time.
/// </summary>
internal static class Rotation
{
    public static IReadOnlyList<T> For<T>(IReadOnlyList<T> items, int repetition) =>
        [.. items.Select((_, i) => items[(i + repetition) % items.Count])];
}
