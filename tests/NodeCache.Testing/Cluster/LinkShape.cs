using System.Globalization;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// How fast one direction of a link is: a rate, and a one-way delay where the kernel has <c>sch_netem</c>. The rate is
/// a token bucket (<c>tbf</c>) whose queue holds 50 ms of traffic; with a delay the shape is <c>netem delay D rate R</c>
/// instead. Kernels built without netem (some VM kernels) shape the rate alone: <see cref="NetworkNamespace.DelayApplied"/> says which.
/// </summary>
public sealed record LinkShape(long BitsPerSecond, TimeSpan Delay)
{
    /// <summary>1 MB/s, the rate of a peer that is "far slower than expected".</summary>
    public static readonly LinkShape Slow = Megabits(8);

    private const long MinimumBurst = 128 * 1024;

    public static LinkShape Megabits(double megabits, TimeSpan? delay = null) =>
        new((long)(megabits * 1_000_000), delay ?? TimeSpan.Zero);

    public long BytesPerSecond => BitsPerSecond / 8;

    public double Megabit => BitsPerSecond / 1_000_000.0;

    public override string ToString() =>
        Delay > TimeSpan.Zero ? $"{Megabit:0.#} Mbit/s, {Delay.TotalMilliseconds:0.#} ms" : $"{Megabit:0.#} Mbit/s";

    /// <summary>The <c>tc qdisc replace</c> arguments that give <paramref name="device"/>'s egress this shape.</summary>
    internal string[] QdiscArguments(string device, bool withDelay)
    {
        var rate = BitsPerSecond.ToString(CultureInfo.InvariantCulture) + "bit";
        if (withDelay && Delay > TimeSpan.Zero)
        {
            // netem's queue is in packets: a second of full-size frames at this rate, so the rate, not the queue, drops nothing.
            var limit = Math.Max(1000, BytesPerSecond / 1500).ToString(CultureInfo.InvariantCulture);
            var delay = ((long)Delay.TotalMicroseconds).ToString(CultureInfo.InvariantCulture) + "us";
            return ["qdisc", "replace", "dev", device, "root", "netem", "delay", delay, "rate", rate, "limit", limit];
        }
        // The bucket must hold at least one timer tick of traffic (HZ may be 100), or the rate is not reached, and more than
        // the largest GSO frame with its segments' headers counted (about 70 KB): tbf never sends a queued packet longer than
        // its bucket, so a reshape to a smaller bucket left the frames queued under the old one stuck, and the link dead.
        var burst = Math.Max(MinimumBurst, BytesPerSecond / 100).ToString(CultureInfo.InvariantCulture);
        return ["qdisc", "replace", "dev", device, "root", "tbf", "rate", rate, "burst", burst, "latency", "50ms"];
    }
}
