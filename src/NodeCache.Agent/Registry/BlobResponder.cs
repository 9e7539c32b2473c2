using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Telemetry;

namespace NodeCache.Agent.Registry;

/// <summary>
/// Serves a request for <c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>, whichever way it came in: from a client of the
/// registry API, or from another agent through the peer API (<see cref="BlobAsker"/>). The steps:
/// (1) Admit a client's request: the pull it belongs to, and the private-image check.
/// (2) Lease the blob from the store: a hit is answered from the cache.
/// (3) Answer a client's HEAD of a miss from a complete fill or the upstream's HEAD.
/// (4) Join the blob's fill, or start it where the asker may (its origins are other agents and the upstream), to follow
///     as it grows; one that committed meanwhile is a hit after all.
/// (5) With the cache disk full, pass the upstream's bytes through to a client, uncached.
/// (6) Count a client's request by its answer.
/// (7) Send the answer.
/// (8) Count the bytes a client got, by where they came from, for the node and for the pull.
/// A body whose bytes the digest does not name never ends cleanly: a fill holds its last byte back until it is
/// verified, and a fill that fails breaks the response. A client is sent bytes another agent sent only once the blob is
/// verified: containerd keeps a broken body's bytes and resumes after them, so a wrong one would fail every retry.
/// </summary>
internal sealed class BlobResponder(BlobStore store, BlobFills fills, RegistryAdmission admission, MirrorMetrics metrics, ILogger<BlobResponder> logger)
{
    /// <param name="asker">A client of the registry API when null.</param>
    /// <returns>The body bytes delivered.</returns>
    public async Task<long> ServeAsync(RegistryRequest request, IBlobResponse response, BlobAsker? asker = null)
    {
        var digest = request.Digest ?? throw new ArgumentException("a blob request names a digest", nameof(request));
        asker ??= BlobAsker.Client;

        // (1) Admit: another agent proved the cluster's secret, and pulls are its own node's to track.
        using var admitted = asker.IsPeer ? default : await admission.AdmitAsync(request, response.Client, response.Aborted).ConfigureAwait(false);

        // (2) to (5): choose the answer.
        using var answer = admitted.Refusal is { } refusal ? BlobAnswer.Failed(refusal) : await ChooseAsync(request, digest, response, asker).ConfigureAwait(false);

        // (6) Count the request.
        if (!asker.IsPeer)
        {
            metrics.Request("blob", answer.Result);
        }

        // (7) Send.
        var sent = await SendAsync(answer, digest, response, asker).ConfigureAwait(false);

        // (8) Count the bytes.
        if (sent.Bytes > 0 && !asker.IsPeer)
        {
            CountServed(answer, sent.Bytes);
            admitted.Pull.Served(answer.Leased is not null, sent.Bytes);
        }
        if (!sent.Failed)
        {
            admitted.Pull.Succeeded();
        }
        return sent.Bytes;
    }

    private async Task<BlobAnswer> ChooseAsync(RegistryRequest request, Digest digest, IBlobResponse response, BlobAsker asker)
    {
        // (2) Lease from the store; the lease keeps eviction and quarantine off the file until the response is done.
        if (store.TryLease(digest, out var leased))
        {
            return new BlobAnswer(BlobAnswer.Hit) { Leased = leased };
        }

        // (3) A HEAD of a miss; another agent asks only for what is here, never for the upstream's word.
        if (response.IsHead && asker.IsPeer)
        {
            return BlobAnswer.Failed(new MirrorError(MirrorFailure.NotFound, OciErrorCode.BlobUnknown, $"blob {digest} is not cached here"));
        }
        if (response.IsHead)
        {
            var head = await fills.HeadAsync(request.Route, request.Repository, digest, response.Aborted).ConfigureAwait(false);
            return head.Error is { } headError ? BlobAnswer.Failed(headError) : new BlobAnswer(head.Verified ? BlobAnswer.Hit : BlobAnswer.Miss) { Head = head };
        }

        // (4) Join or start the fill.
        var source = await fills.JoinOrStartAsync(request.Route, request.Repository, digest, response.Aborted, reach: asker.Reach).ConfigureAwait(false);
        if (source.Cached is not null)
        {
            if (store.TryLease(digest, out var committed))
            {
                return new BlobAnswer(BlobAnswer.Hit) { Leased = committed };
            }
            // A fill had just committed it, and an eviction took it before it could be leased: it is a miss after all.
            source = await fills.JoinOrStartAsync(request.Route, request.Repository, digest, response.Aborted, reach: asker.Reach).ConfigureAwait(false);
            if (source.Cached is not null && store.TryLease(digest, out var recommitted))
            {
                return new BlobAnswer(BlobAnswer.Hit) { Leased = recommitted };
            }
        }
        if (source.Fill is { } fill)
        {
            return new BlobAnswer(source.Joined ? BlobAnswer.Coalesced : BlobAnswer.Miss) { Fill = fill };
        }

        // (5) Pass through, uncached: for a client only, as another agent has the upstream itself.
        if (source.DiskFull && asker.IsPeer)
        {
            return BlobAnswer.Failed(new MirrorError(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"blob {digest} cannot be cached here: the disk is full"));
        }
        if (source.DiskFull)
        {
            var (blob, error) = await fills.PassThroughAsync(request.Route, request.Repository, digest, response.Aborted).ConfigureAwait(false);
            return blob is null ? BlobAnswer.Failed(error!) : new BlobAnswer(BlobAnswer.Miss) { PassThrough = blob };
        }
        return BlobAnswer.Failed(source.Error ?? new MirrorError(MirrorFailure.NotFound, OciErrorCode.BlobUnknown, $"blob {digest} is unknown"));
    }

    private async Task<Sent> SendAsync(BlobAnswer answer, Digest digest, IBlobResponse response, BlobAsker asker)
    {
        try
        {
            switch (answer)
            {
                case { Leased: { } leased }:
                    return new Sent(await response.SendCachedAsync(leased.Blob).ConfigureAwait(false));
                case { Head: { } head }:
                    await response.SendHeadAsync(digest, head.MediaType, head.Size).ConfigureAwait(false);
                    return new Sent(0);
                case { Fill: { } fill }:
                    // An upstream that sends no Content-Length leaves the size unknown until the fill ends.
                    if ((fill.Size ?? (await fill.Ended.WaitAsync(response.Aborted).ConfigureAwait(false) == FillState.Committed ? fill.Written : null)) is { } size)
                    {
                        // A client keeps what it received of a broken body, so it gets another agent's bytes only once verified.
                        return new Sent(await response.SendFillAsync(fill, size, holdPeerBytes: !asker.IsPeer).ConfigureAwait(false));
                    }
                    await response.SendErrorAsync(new MirrorError(MirrorFailure.Unavailable, OciErrorCode.Unavailable, $"could not fetch blob {digest}")).ConfigureAwait(false);
                    return new Sent(0, Failed: true);
                case { PassThrough: { } passThrough }:
                    return new Sent(await response.SendPassThroughAsync(passThrough).ConfigureAwait(false));
                default:
                    await response.SendErrorAsync(answer.Error!).ConfigureAwait(false);
                    return new Sent(0, Failed: true);
            }
        }
        catch (FillFailedException ex)
        {
            logger.LogWarning("Aborting a response for {Digest}: {Reason}", ex.Digest, ex.Message);
            response.Abort();
            return new Sent(0, Failed: true);
        }
    }

    // A fill's bytes count as the share of them that came from other agents, and the rest from the upstream.
    private void CountServed(BlobAnswer answer, long bytes)
    {
        if (answer.Fill is { FromPeers: > 0 } fill)
        {
            var fromPeers = Math.Min(bytes, (long)((double)bytes * fill.FromPeers / Math.Max(1, fill.Written)));
            metrics.Served(BlobOrigin.PeerKind, fromPeers);
            metrics.Served(BlobOrigin.UpstreamKind, bytes - fromPeers);
            return;
        }
        metrics.Served(answer.Leased is null ? BlobOrigin.UpstreamKind : "cache", bytes);
    }

    /// <summary>The body bytes a response delivered, and whether it ended as an error or a broken transfer.</summary>
    private readonly record struct Sent(long Bytes, bool Failed = false);

    /// <summary>What a blob request is answered with, and its result for <c>nodecache_requests</c>.</summary>
    private sealed record BlobAnswer(string Result) : IDisposable
    {
        public const string Hit = "hit";
        public const string Miss = "miss";
        public const string Coalesced = "coalesced";
        public const string Failure = "error";

        public LeasedBlob? Leased { get; init; }

        public BlobHead? Head { get; init; }

        public BlobFill? Fill { get; init; }

        public PassThroughBlob? PassThrough { get; init; }

        public MirrorError? Error { get; init; }

        public static BlobAnswer Failed(MirrorError error) => new(Failure) { Error = error };

        public void Dispose()
        {
            Leased?.Dispose();
            PassThrough?.Dispose();
        }
    }
}
