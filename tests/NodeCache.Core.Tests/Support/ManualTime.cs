namespace NodeCache.Core.Tests.Support;

/// <summary>A clock that moves only when a test moves it; timers stay real, so backoff delays still elapse.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public ManualTime()
        : this(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
