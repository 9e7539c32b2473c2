namespace NodeCache.Fill;

/// <summary>
/// The pace of this agent's watched transfers (from other agents) running now, each as of its last whole window: what
/// "far slower than expected" is measured against. The agent's own link and the cluster's load set what a healthy transfer
/// gets, and the transfers beside it got that; one that gets a small part of it has a sender whose link or disk failed.
/// </summary>
internal sealed class TransferRates
{
    private readonly Dictionary<object, double> _rates = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _gate = new();

    /// <summary>
    /// Records <paramref name="transfer"/>'s last window and returns the median of the other transfers' last windows, or
    /// null while no other transfer has closed one.
    /// </summary>
    public double? Report(object transfer, double bytesPerSecond)
    {
        lock (_gate)
        {
            _rates.Remove(transfer);
            var others = _rates.Values.Order().ToArray();
            _rates[transfer] = bytesPerSecond;
            return others.Length == 0 ? null : others.Length % 2 == 1 ? others[others.Length / 2] : (others[others.Length / 2 - 1] + others[others.Length / 2]) / 2;
        }
    }

    /// <summary>The transfer ended: it is no longer a measure for the others.</summary>
    public void Remove(object transfer)
    {
        lock (_gate)
        {
            _rates.Remove(transfer);
        }
    }
}
