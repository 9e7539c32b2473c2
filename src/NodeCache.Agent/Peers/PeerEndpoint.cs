using NodeCache.Access;
using Microsoft.AspNetCore.Http.Features;
using NodeCache.Agent.Configuration;
using NodeCache.Agent.Registry;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Peers;
using NodeCache.Store.Blobs;
using NodeCache.Upstream;

namespace NodeCache.Agent.Peers;

/// <summary>
/// The peer API, on <c>--peer-listen</c>: blobs by digest (GET, HEAD, Range) for the other agents of the cluster, at the
/// registry API's paths so that a request names the registry and repository it is pulling. Every request must prove the
/// cluster's secret, or it gets 401 and no bytes. A blob is answered by the one blob-serving path, <see cref="BlobResponder"/>:
/// (1) from the cache, or by following the fill in progress, as any client is served: the last byte held back until the
///     digest is verified;
/// (2) on its owner only, by joining or starting the one fill from the upstream with this agent's own credentials;
/// (3) with a redirect to an agent already receiving it, when this one uploads it to enough agents already;
/// and with a fast 404 otherwise, so that the asking agent moves on. It never starts an upstream fill for a blob it does
/// not own, nor for a request that was redirected here or that asks for what it holds only (the asking agent's upstream
/// is down), and it serves nothing but the cache's blobs. A manifest, asked for only while the asking agent's upstream
/// cannot answer, is lent from the cache alone: the upstream's denial when this agent holds it as denied, else its copy.
/// </summary>
internal sealed class PeerEndpoint(
    PeerProof proof, PeerOwnership ownership, PeerUploads uploads, PeerMetrics metrics, BlobStore store, BlobFills fills, BlobResponder blobs,
    ManifestResolver manifests, PrivateImagePolicy privateImages, UpstreamRules rules, AgentOptions options, ILogger<PeerEndpoint> logger)
{
    public Task HandleAsync(HttpContext context) => OciErrorResponse.AnswerFailuresAsync(context, DispatchAsync, logger);

    private async Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers[RegistryHeaders.ApiVersion] = "registry/2.0";
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await OciErrorResponse.WriteAsync(context, MirrorFailure.Unsupported, OciErrorCode.Unsupported, $"{request.Method} is not supported by the peer API").ConfigureAwait(false);
            return;
        }
        var requester = request.Headers[PeerProof.PeerHeader].ToString();
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? $"{request.Path}{request.QueryString}";
        var check = proof.Verify(request.Method, target, requester, request.Headers[PeerProof.TimeHeader], request.Headers[PeerProof.ProofHeader]);
        if (check != PeerProofCheck.Valid || !PeerMember.TryCanonicalUrl(requester, out var peer, out _))
        {
            metrics.Answer(PeerAnswerResult.Unauthorized);
            logger.LogWarning("Refused a peer request from {Address} for {Target}: proof {Check}", context.Connection.RemoteIpAddress, target, check);
            await OciErrorResponse.WriteAsync(context, MirrorFailure.Unauthorized, OciErrorCode.Unauthorized, "peer requests must prove the cluster's peer secret").ConfigureAwait(false);
            return;
        }
        var path = request.Path.Value ?? "";
        MirrorError? error = null;
        if (!path.StartsWith("/v2/", StringComparison.Ordinal)
            || !RegistryRequest.TryDecode(path["/v2".Length..], request.Query["ns"], options.DefaultRegistry, rules, out _, out var decoded, out error)
            || decoded.Resource is not (RegistryResource.Blob or RegistryResource.Manifest))
        {
            metrics.Answer(PeerAnswerResult.BadRequest);
            await OciErrorResponse.WriteAsync(context, error ?? new MirrorError(MirrorFailure.NotFound, OciErrorCode.NameUnknown, "the peer API serves blobs by digest and lends manifests only"))
                .ConfigureAwait(false);
            return;
        }
        if (decoded.Resource == RegistryResource.Manifest)
        {
            await LendManifestAsync(context, decoded).ConfigureAwait(false);
            return;
        }
        await ServeBlobAsync(context, decoded, decoded.Digest!.Value, peer).ConfigureAwait(false);
    }

    private async Task LendManifestAsync(HttpContext context, RegistryRequest decoded)
    {
        var response = context.Response;
        // The asking agent's own privacy check may have nothing else to go on while its upstream cannot answer.
        if (privateImages.IsKnownPublic(decoded.Route.Registry, decoded.Repository))
        {
            response.Headers[PeerPaths.RepositoryHeader] = "public";
        }
        var accept = context.Request.Headers.Accept.ToString();
        var loan = await manifests.LendAsync(decoded.Route, decoded.Repository, decoded.Reference, string.IsNullOrEmpty(accept) ? null : accept, context.RequestAborted)
            .ConfigureAwait(false);
        if (loan.Denial is { } denial)
        {
            metrics.Answer(PeerAnswerResult.Denied);
            response.Headers[PeerPaths.DeniedHeader] = denial.Code;
            await OciErrorResponse.WriteAsync(context, denial).ConfigureAwait(false);
            return;
        }
        if (loan.Manifest is not { } manifest)
        {
            metrics.Answer(PeerAnswerResult.NotFound);
            await OciErrorResponse.WriteAsync(context, MirrorFailure.NotFound, OciErrorCode.ManifestUnknown, $"this agent holds no manifest {decoded.Reference} of {decoded.Repository}")
                .ConfigureAwait(false);
            return;
        }
        RegistryHeaders.SetContent(response, manifest.Digest, manifest.MediaType, manifest.Bytes.Length);
        if (loan.FetchedAt is { } fetchedAt)
        {
            response.Headers[PeerPaths.FetchedAtHeader] = fetchedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(manifest.Bytes, context.RequestAborted).ConfigureAwait(false);
        }
        metrics.Answer(PeerAnswerResult.Served);
    }

    private async Task ServeBlobAsync(HttpContext context, RegistryRequest decoded, Digest digest, string requester)
    {
        var query = context.Request.Query;
        var redirected = query[PeerPaths.RedirectedParameter] == "1";
        var direct = query[PeerPaths.DirectParameter] == "1";
        var heldOnly = query[PeerPaths.HeldParameter] == "1";
        var tried = query[PeerPaths.TriedParameter].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var held = Holds(context, digest, requester);
        // (2) Only the owner fetches from the upstream, only for a GET, and never for a request another agent sent here or
        // one for what this agent holds only.
        if (!held && (!HttpMethods.IsGet(context.Request.Method) || redirected || heldOnly || !ownership.IsOwner(digest, tried)))
        {
            metrics.Answer(PeerAnswerResult.NotFound);
            await OciErrorResponse.WriteAsync(context, MirrorFailure.NotFound, OciErrorCode.BlobUnknown, $"this agent neither holds nor owns blob {digest}").ConfigureAwait(false);
            return;
        }
        // (3) Beyond the uploads this agent runs for the blob, the request goes to an agent that receives it from here.
        var decision = uploads.Begin(digest, requester, mustServe: direct || HttpMethods.IsHead(context.Request.Method));
        if (decision.RedirectTo is { } receiver)
        {
            metrics.Answer(PeerAnswerResult.Redirected);
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = PeerPaths.Redirect(receiver, decoded.Route.Registry, decoded.Repository, digest);
            return;
        }
        // (1) As any client is served: from the cache, or following the fill, by the one blob-serving path.
        using var upload = decision.Upload!;
        upload.Bytes = await blobs.ServeAsync(decoded, new KestrelBlobResponse(context), BlobAsker.Peer(owner: !held)).ConfigureAwait(false);
        metrics.Answer(context.Response.StatusCode < 400 ? PeerAnswerResult.Served : PeerAnswerResult.Failed);
    }

    // Cached, or (for a GET) being received from somewhere other than the agent asking, which would be waiting for itself. A
    // fill still asking its first origin counts: an agent redirected here arrives just after this one began to receive.
    private bool Holds(HttpContext context, Digest digest, string requester)
    {
        if (store.Contains(digest))
        {
            return true;
        }
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            return false;
        }
        return fills.TryGetRunning(digest, out var fill) ? fill.Origin is not { Kind: "peer" } origin || origin.Name != requester : fills.IsFilling(digest);
    }
}
