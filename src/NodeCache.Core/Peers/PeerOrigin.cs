using System.Net;
using Microsoft.Extensions.Logging;
using NodeCache.Fill;
using NodeCache.Oci;

namespace NodeCache.Peers;

/// <summary>
/// Another agent as a fill's origin: a blob GET to its peer API, following its redirect to an agent that already receives
/// the blob (only to members, and back to it with <c>direct</c> when the redirect leads nowhere). A failure is counted
/// against the agent that answered and makes this agent avoid it for a while.
/// </summary>
/// <param name="heldOnly">Ask for what the member holds or receives only, never for a fetch from the upstream (the upstream is down).</param>
internal sealed class PeerOrigin(
    PeerMember member, PassedOver passedOver, string registry, RepositoryName repository,
    PeerClient client, PeerMembership membership, PeerHealth health, PeerMetrics metrics, PeerOptions options, ILogger logger, bool heldOnly = false)
    : BlobOrigin
{
    private readonly OriginPace _pace = new(options.StallTimeout, options.MinBytesPerSecond, options.RateWindow);

    // The agent whose body the fill reads now: the member asked, or the one it redirected to.
    private string _answering = member.Id;

    public override string Kind => PeerKind;

    public override string Name => _answering;

    /// <summary>The member asked first, which owns the blob or takes over from those before it.</summary>
    public PeerMember Member => member;

    public override OriginPace? Pace => _pace;

    public override async Task<OriginAnswer> OpenAsync(Digest digest, long offset, long? size, CancellationToken cancellationToken)
    {
        var target = member.Id;
        var tried = passedOver.Members;
        var path = PeerPaths.Blob(registry, repository, digest, tried, direct: false, heldOnly);
        var direct = false;
        for (var hops = 0; ; hops++)
        {
            _answering = target;
            HttpResponseMessage response;
            health.Asked(target);
            try
            {
                response = await client.SendAsync(HttpMethod.Get, target, path, offset, accept: null, cancellationToken).ConfigureAwait(false);
            }
            catch (PeerUnansweredException ex)
            {
                // A member this agent does not accept is passed over like one that refused it (see Left).
                var reason = ex.Result switch
                {
                    PeerRequestResult.Stalled => FallbackReason.Stalled,
                    PeerRequestResult.Untrusted => FallbackReason.Refused,
                    _ => FallbackReason.Unreachable,
                };
                metrics.Request(ex.Result);
                if (target == member.Id)
                {
                    return OriginAnswer.Missing(reason, ex.Message);
                }
                health.Failed(target, reason, ex.Message);
                (target, path, direct) = BackToMember(digest, tried, direct, ex.Message, out var exhausted);
                if (exhausted is not null)
                {
                    return exhausted;
                }
                continue;
            }
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK or HttpStatusCode.PartialContent:
                    if (Fits(response, offset, size) is { } problem)
                    {
                        response.Dispose();
                        metrics.Request(PeerRequestResult.Failed);
                        return OriginAnswer.Missing(FallbackReason.Failed, $"{target}: {problem}");
                    }
                    metrics.Request(PeerRequestResult.Served);
                    health.Succeeded(target);
                    var content = response.Content;
                    var total = offset == 0 ? content.Headers.ContentLength : size;
                    var body = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    return OriginAnswer.Found(body, total, content.Headers.ContentType?.MediaType, response);
                case HttpStatusCode.TemporaryRedirect or HttpStatusCode.Found or HttpStatusCode.SeeOther when !direct && hops < options.MaxRedirects
                    && RedirectTarget(response) is { } next:
                    response.Dispose();
                    metrics.Request(PeerRequestResult.Redirected);
                    (target, path) = next;
                    continue;
                case HttpStatusCode.NotFound when target != member.Id:
                    // The agent it was sent to holds nothing (any more): the member that sent it serves it itself.
                    response.Dispose();
                    metrics.Request(PeerRequestResult.NotFound);
                    (target, path, direct) = BackToMember(digest, tried, direct, $"{target} holds no {digest}", out var none);
                    if (none is not null)
                    {
                        return none;
                    }
                    continue;
                case HttpStatusCode.NotFound:
                    response.Dispose();
                    metrics.Request(PeerRequestResult.NotFound);
                    return OriginAnswer.Missing(FallbackReason.NotFound, $"{target} neither holds nor fetches {digest}");
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    response.Dispose();
                    metrics.Request(PeerRequestResult.Refused);
                    // Worth a warning every time: the agents disagree on the secret, or a clock is far off.
                    logger.LogWarning("Peer {Peer} refused this agent's request ({Status}): do the agents share one --peer-token-file, and are their clocks within {Skew}?",
                        target, (int)response.StatusCode, PeerProof.MaxSkew);
                    return OriginAnswer.Missing(FallbackReason.Refused, $"{target} answered {(int)response.StatusCode}");
                default:
                    response.Dispose();
                    metrics.Request(PeerRequestResult.Failed);
                    return OriginAnswer.Missing(FallbackReason.Failed, $"{target} answered {(int)response.StatusCode}");
            }
        }
    }

    public override void Received(long bytes)
    {
        metrics.Received(bytes);
        health.Received(_answering, bytes);
    }

    public override void Left(FallbackReason reason, string detail)
    {
        metrics.Fallback(reason);
        if (reason is FallbackReason.Unreachable or FallbackReason.Refused && _answering == member.Id)
        {
            passedOver.Add(member.Id);
        }
        if (reason != FallbackReason.NotFound)
        {
            health.Failed(_answering, reason, detail);
            logger.LogInformation("Leaving peer {Peer} for the next origin: {Reason} ({Detail})", _answering, reason, detail);
        }
    }

    public override void SentWrongBytes()
    {
        metrics.Fallback(FallbackReason.WrongBytes);
        health.Failed(_answering, FallbackReason.WrongBytes, "sent bytes that are not the blob's");
        logger.LogWarning("Peer {Peer} sent bytes that are not the blob's; avoided for {Duration}", _answering, PeerHealth.AvoidFor(FallbackReason.WrongBytes));
    }

    private (string Target, string Path, bool Direct) BackToMember(Digest digest, IReadOnlyCollection<string> tried, bool alreadyDirect, string why, out OriginAnswer? exhausted)
    {
        exhausted = alreadyDirect ? OriginAnswer.Missing(FallbackReason.Failed, why) : null;
        return (member.Id, PeerPaths.Blob(registry, repository, digest, tried, direct: true, heldOnly), true);
    }

    // A redirect is followed only to another member's peer API, never to an address a stranger could name.
    private (string Target, string Path)? RedirectTarget(HttpResponseMessage response)
    {
        if (response.Headers.Location is not { IsAbsoluteUri: true } location
            || !PeerMember.TryCanonicalUrl(location.GetLeftPart(UriPartial.Authority), out var id, out _)
            || id == membership.SelfId
            || !membership.Members.Any(m => m.Id == id))
        {
            logger.LogWarning("Peer {Peer} redirected to {Location}, which is not a member; not followed", _answering, response.Headers.Location);
            return null;
        }
        return (id, location.PathAndQuery);
    }

    // From the start, a whole blob of the size announced; further on, exactly the rest of a blob of the size already known.
    private static string? Fits(HttpResponseMessage response, long offset, long? size)
    {
        var headers = response.Content.Headers;
        if (offset == 0)
        {
            return response.StatusCode == HttpStatusCode.OK && headers.ContentLength is not null ? null : "not a whole blob with a Content-Length";
        }
        return response.StatusCode == HttpStatusCode.PartialContent
            && headers.ContentRange is { From: { } from, To: { } to, Length: { } length } && from == offset && to == size - 1 && length == size
            ? null
            : $"not the rest of the blob from byte {offset}";
    }
}

/// <summary>
/// The members one fill could not reach (or that refused it, or whose certificate it does not accept), in the order it asked them: the member it asks next may take
/// over as the owner after them. A member that stalled or failed part way is not among them: it is alive, and the next
/// member serves the blob only if it holds or receives it, rather than fetching it from the upstream a second time.
/// </summary>
internal sealed class PassedOver
{
    private readonly List<string> _members = [];

    public IReadOnlyCollection<string> Members
    {
        get
        {
            lock (_members)
            {
                return [.. _members];
            }
        }
    }

    public void Add(string memberId)
    {
        lock (_members)
        {
            _members.Add(memberId);
        }
    }
}
