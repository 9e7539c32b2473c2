namespace NodeCache.Mirror;

/// <summary>How the mirror treats tags.</summary>
public sealed record MirrorOptions
{
    /// <summary>How long a tag's digest is served without asking the upstream again. A minute keeps mutable tags
    /// (<c>latest</c>) current while a node starting many pods of one image asks the upstream once.</summary>
    public TimeSpan TagTtl { get; init; } = TimeSpan.FromMinutes(1);
}
