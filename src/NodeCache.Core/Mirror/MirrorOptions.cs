namespace NodeCache.Mirror;

/// <summary>How the mirror treats tags, manifests by digest and the upstream's denials.</summary>
public sealed record MirrorOptions
{
    /// <summary>How long a tag's digest is served without asking the upstream again. A minute keeps mutable tags
    /// (<c>latest</c>) current while a node starting many pods of one image asks the upstream once.</summary>
    public TimeSpan TagTtl { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a manifest by digest is served without asking the upstream whether it may still be pulled;
    /// null never asks again, zero asks every time. Five minutes bounds how long an image that a new CVE or policy
    /// blocks keeps being served, at one HEAD per image and node in that time.</summary>
    public TimeSpan? ManifestRevalidation { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The file the upstream's denials are remembered in across restarts; null remembers them in memory only.</summary>
    public string? DenialsPath { get; init; }
}
