using NodeCache.Oci;

namespace NodeCache.Prewarm;

/// <summary>What a blob of a prewarm is doing.</summary>
public enum PrewarmBlobState
{
    Pending,
    Fetching,
    Cached,
    Fetched,
    Failed,
}

/// <summary>Why an image could not be prewarmed.</summary>
public enum PrewarmFailure
{
    None,
    NotFound,
    NoUpstream,
    Upstream,
}

/// <summary>One step of a prewarm, in the order it happened.</summary>
public abstract record PrewarmProgress(ImageReference Image);

/// <summary>The image's manifest is known: its digest, platform and blobs.</summary>
public sealed record PrewarmResolved(ImageReference Image, Digest Digest, Platform Platform, int Blobs, long TotalBytes) : PrewarmProgress(Image);

/// <summary>A blob's state and bytes so far.</summary>
/// <param name="Kind"><c>config</c> or <c>layer</c>.</param>
public sealed record PrewarmBlob(ImageReference Image, Digest Digest, string Kind, long Size, long BytesDone, PrewarmBlobState State, string? Error = null) : PrewarmProgress(Image);

/// <summary>The image is in the cache, or why it is not.</summary>
public sealed record PrewarmFinished(ImageReference Image, Digest? Digest, PrewarmFailure Failure, string Message, long BytesFetched, long BytesCached, TimeSpan Duration) : PrewarmProgress(Image);
