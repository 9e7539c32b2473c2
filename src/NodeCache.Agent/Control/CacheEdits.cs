using Grpc.Core;
using NodeCache.Agent.Configuration;
using NodeCache.Control.V1;
using NodeCache.Oci;
using NodeCache.Store.Eviction;
using NodeCache.Store.Images;
using NodeCache.Store.Index;
using BlobState = NodeCache.Store.Index.BlobState;

namespace NodeCache.Agent.Control;

/// <summary>
/// Pin, unpin and evict as the control API offers them: a target is an image reference or a blob digest, each answered
/// with the cached blobs it concerned; what cannot be done is a status with one line that says why.
/// </summary>
internal sealed class CacheEdits(Pins pins, BlobEviction eviction, ImageBlobs images, BlobIndex blobs, AgentOptions options, ILogger<CacheEdits> logger)
{
    public PinResponse Pin(string text)
    {
        var target = Parse(text);
        var added = target.Image is { } image ? pins.Pin(image) : pins.Pin(target.Digest!.Value);
        var digests = Cached(Members(target));
        logger.LogInformation("Pinned {Target}: {Blobs} cached blobs{Again}", target, digests.Count, added ? "" : " (pinned already)");
        return new PinResponse { Blobs = digests.Count, Bytes = Bytes(digests) };
    }

    public UnpinResponse Unpin(string text)
    {
        var target = Parse(text);
        var before = Cached(Pinned());
        var removed = target.Image is { } image ? pins.Unpin(image) : pins.Unpin(target.Digest!.Value);
        if (!removed)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"{target} is not pinned (a pin is removed by the reference it was made with)"));
        }
        var freed = before.Count - Cached(Pinned()).Count;
        logger.LogInformation("Unpinned {Target}: {Blobs} cached blobs may be evicted again", target, freed);
        return new UnpinResponse { Blobs = freed };
    }

    public EvictResponse Evict(string text)
    {
        var target = Parse(text);
        // Sizes are read first: an evicted blob has none left to read.
        var sizes = Cached(Members(target)).ToDictionary(d => d, Size);
        var results = target.Image is { } image
            ? eviction.Evict(image)
            : new Dictionary<Digest, EvictionResult> { [target.Digest!.Value] = eviction.Evict(target.Digest.Value) };
        var response = new EvictResponse();
        foreach (var (digest, result) in results)
        {
            switch (result)
            {
                case EvictionResult.Evicted:
                    response.Blobs++;
                    response.Bytes += sizes.GetValueOrDefault(digest);
                    break;
                case EvictionResult.Pinned:
                    response.Pinned++;
                    break;
                case EvictionResult.PinnedForPod:
                    response.Retained++;
                    break;
                case EvictionResult.InUse:
                    response.InUse++;
                    break;
            }
        }
        logger.LogInformation(
            "Evicted {Target}: {Blobs} blobs ({Bytes} bytes); kept {Pinned} pinned, {PinnedForPods} pinned for pods, {InUse} in use",
            target, response.Blobs, response.Bytes, response.Pinned, response.Retained, response.InUse);
        if (response.Blobs > 0)
        {
            return response;
        }
        throw new RpcException(response switch
        {
            { Pinned: > 0 } => new Status(StatusCode.FailedPrecondition, $"{target} is pinned: unpin it to evict it"),
            { Retained: > 0 } => new Status(StatusCode.FailedPrecondition, $"{target} is kept for a pod on this node"),
            { InUse: > 0 } => new Status(StatusCode.FailedPrecondition, $"{target} is being served: try again when the pull ends"),
            _ => new Status(StatusCode.NotFound, $"{target} is not in the cache"),
        });
    }

    /// <summary>Every digest pinned now, directly or through an image.</summary>
    public IReadOnlySet<Digest> Pinned() => pins.Resolve(images);

    /// <summary>Bytes of those of <paramref name="digests"/> that are cached.</summary>
    public long Bytes(IEnumerable<Digest> digests) => digests.Sum(Size);

    private IEnumerable<Digest> Members(CacheTarget target) => target.Image is { } image ? images.Of(image) : images.Of(target.Digest!.Value);

    // The index, not the store: reading sizes must not count as a use of the blob.
    private List<Digest> Cached(IEnumerable<Digest> digests) => [.. digests.Where(d => blobs.TryGet(d, out var record) && record.State == BlobState.Committed)];

    private long Size(Digest digest) => blobs.TryGet(digest, out var record) && record.State == BlobState.Committed ? record.Size : 0;

    private CacheTarget Parse(string text)
    {
        if (Digest.TryParse(text, out var digest))
        {
            return new CacheTarget(digest, null);
        }
        if (ImageReference.TryParse(text, options.DefaultRegistry, out var reference, out var error))
        {
            return new CacheTarget(null, PinnedImage.From(reference));
        }
        throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{text}' is neither a digest nor an image reference: {error}"));
    }

    private sealed record CacheTarget(Digest? Digest, PinnedImage? Image)
    {
        public override string ToString() => Image?.ToString() ?? Digest.ToString()!;
    }
}
