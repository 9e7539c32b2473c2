namespace NodeCache.Concurrency;

/// <summary>
/// A token bucket shared by every transfer that takes from it: together they average at most <see cref="BytesPerSecond"/>,
/// with bursts of a quarter of a second's worth.
/// </summary>
public sealed class BandwidthLimit(long bytesPerSecond, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private double _available = bytesPerSecond / 4.0;
    private long _refilledAt = (time ?? TimeProvider.System).GetTimestamp();

    public long BytesPerSecond { get; } = bytesPerSecond > 0 ? bytesPerSecond : throw new ArgumentOutOfRangeException(nameof(bytesPerSecond));

    /// <summary>Takes <paramref name="bytes"/> from the bucket, waiting for them when it runs dry.</summary>
    public Task TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var burst = BytesPerSecond / 4.0;
            _available = Math.Min(burst, _available + (_time.GetElapsedTime(_refilledAt, now).TotalSeconds * BytesPerSecond));
            _refilledAt = now;
            _available -= bytes;
            // In debt: whoever took last waits until the bucket is back at zero.
            wait = _available >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_available / BytesPerSecond);
        }
        return wait == TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _time, cancellationToken);
    }
}
