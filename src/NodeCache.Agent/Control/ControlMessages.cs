using Google.Protobuf.WellKnownTypes;
using NodeCache.Control.V1;
using NodeCache.Prewarm;
using ImagePull = NodeCache.Pulls.ImagePull;
using PullOrigin = NodeCache.Pulls.PullSource;

namespace NodeCache.Agent.Control;

/// <summary>The domain's records as the control API's messages.</summary>
internal static class ControlMessages
{
    public static PrewarmEvent From(PrewarmProgress step) => step switch
    {
        PrewarmResolved resolved => new PrewarmEvent
        {
            Resolved = new ImageResolved
            {
                Image = resolved.Image.ToString(),
                Digest = resolved.Digest.ToString(),
                Platform = resolved.Platform.ToString(),
                Blobs = resolved.Blobs,
                TotalBytes = resolved.TotalBytes,
            },
        },
        PrewarmBlob blob => new PrewarmEvent
        {
            Blob = new BlobProgress
            {
                Image = blob.Image.ToString(),
                Digest = blob.Digest.ToString(),
                Kind = blob.Kind,
                Size = blob.Size,
                BytesDone = blob.BytesDone,
                State = blob.State switch
                {
                    PrewarmBlobState.Pending => BlobState.Pending,
                    PrewarmBlobState.Fetching => BlobState.Fetching,
                    PrewarmBlobState.Cached => BlobState.Cached,
                    PrewarmBlobState.Fetched => BlobState.Fetched,
                    _ => BlobState.Failed,
                },
                Error = blob.Error ?? "",
            },
        },
        PrewarmFinished done => new PrewarmEvent
        {
            Done = new ImageDone
            {
                Image = done.Image.ToString(),
                Digest = done.Digest?.ToString() ?? "",
                Error = done.Failure switch
                {
                    PrewarmFailure.None => ImageError.None,
                    PrewarmFailure.NotFound => ImageError.NotFound,
                    PrewarmFailure.NoUpstream => ImageError.NoUpstream,
                    _ => ImageError.Upstream,
                },
                Message = done.Message,
                BytesFetched = done.BytesFetched,
                BytesCached = done.BytesCached,
                Duration = Duration.FromTimeSpan(done.Duration),
            },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(step), step.GetType().Name, "unknown prewarm step"),
    };

    public static CachedImage From(NodeCache.Store.Images.CachedImage image, bool pinned) => new()
    {
        Image = $"{image.Registry}/{image.Repository}:{image.Tag}",
        Digest = image.Digest.ToString(),
        MediaType = image.MediaType,
        Size = image.Size,
        Blobs = image.Blobs,
        LastUsed = Timestamp.FromDateTimeOffset(image.LastUsed),
        Pinned = pinned,
    };

    public static PullEvent From(ImagePull pull) => new()
    {
        Id = pull.Id,
        Finished = pull.Finished,
        Registry = pull.Registry,
        Repository = pull.Repository.Value,
        Reference = pull.Reference,
        Bytes = pull.Bytes,
        Source = pull.Source switch
        {
            PullOrigin.Cache => PullSource.Cache,
            PullOrigin.Upstream => PullSource.Upstream,
            _ => PullSource.Mixed,
        },
        Requests = pull.Requests,
        StartedAt = Timestamp.FromDateTimeOffset(pull.StartedAt),
        Duration = Duration.FromTimeSpan(pull.Duration),
        Failed = pull.Failed,
    };
}
