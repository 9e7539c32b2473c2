namespace NodeCache.Prefetch;

/// <summary>Why an image is wanted, most urgent first: the queue serves a lower value before a higher one.</summary>
public enum PrefetchUrgency
{
    /// <summary>A pod bound to this node and not yet running: the kubelet is about to pull.</summary>
    Bound,

    /// <summary>A pod the scheduler nominated this node for (preemption in progress).</summary>
    Nominated,

    /// <summary>A workload running here changed its pod template: its rolling update will land here.</summary>
    Anticipated,
}

/// <summary>Where a request for an image stands in the queue: by urgency, then by the creation time of what wants it.</summary>
public readonly record struct PrefetchPriority(PrefetchUrgency Urgency, DateTimeOffset Since) : IComparable<PrefetchPriority>
{
    public int CompareTo(PrefetchPriority other) =>
        Urgency != other.Urgency ? Urgency.CompareTo(other.Urgency) : Since.CompareTo(other.Since);

    public static bool operator <(PrefetchPriority left, PrefetchPriority right) => left.CompareTo(right) < 0;

    public static bool operator >(PrefetchPriority left, PrefetchPriority right) => left.CompareTo(right) > 0;

    public static bool operator <=(PrefetchPriority left, PrefetchPriority right) => left.CompareTo(right) <= 0;

    public static bool operator >=(PrefetchPriority left, PrefetchPriority right) => left.CompareTo(right) >= 0;
}
