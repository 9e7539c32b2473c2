using NodeCache.Oci;

namespace NodeCache.Pulls;

/// <summary>Where a pull's blobs came from: all from the cache, all from upstream, or some of each.</summary>
public enum PullSource
{
    Cache,
    Upstream,
    Mixed,
}

/// <summary>One image pull as the agent saw it: the manifest and blob requests of one client for one repository, close together in time.</summary>
/// <param name="Reference">The tag or digest of the pull's first request.</param>
/// <param name="Duration">From the first request's start to the last one's end; zero while running.</param>
/// <param name="Failed">No request of the pull was answered with content: the image is not there (containerd then tries its next host).</param>
public sealed record ImagePull(
    long Id,
    bool Finished,
    string Registry,
    RepositoryName Repository,
    string Reference,
    long Bytes,
    PullSource Source,
    int Requests,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    bool Failed = false);
