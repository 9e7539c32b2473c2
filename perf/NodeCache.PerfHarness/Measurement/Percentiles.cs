namespace NodeCache.PerfHarness.Measurement;

/// <summary>Order statistics of a few repetitions: the median resists the one run a noisy neighbour slowed down.</summary>
internal static class Percentiles
{
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
