namespace NodeCache.Core.Tests.Upstream.Support;

/// <summary>A clock the test moves by hand; timers stay real, so backoff delays still elapse.</summary>
internal sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
