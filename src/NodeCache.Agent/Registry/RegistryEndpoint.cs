using System.Net;
using NodeCache.Access;
using NodeCache.Agent.Configuration;
using NodeCache.Oci;
using NodeCache.Prefetch;
using NodeCache.Pulls;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>
/// The pull side of the distribution API under <c>/v2/</c>: validates the path, picks the upstream from <c>?ns=</c>,
/// and hands manifests, blobs and listings (tags, referrers) to their endpoints. Anything it cannot serve fails fast, so containerd tries its next host.
/// </summary>
internal sealed class RegistryEndpoint(
    UpstreamRules rules, AgentOptions options, ManifestEndpoint manifests, BlobEndpoint blobs, ListingEndpoint listings, PrefetchLeadTimes leadTimes, PrivateImagePolicy privateImages,
    PullTracker pulls, ILogger<RegistryEndpoint> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await DispatchAsync(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "{Method} {Path}{Query} failed", context.Request.Method, context.Request.Path, context.Request.QueryString);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }
            context.Response.Clear();
            await OciErrorResponse.WriteAsync(context, HttpStatusCode.InternalServerError, OciErrorCode.Unknown, "internal error; see the agent's log").ConfigureAwait(false);
        }
    }

    private async Task ServeInPullAsync(HttpContext context, RegistryRequest decoded)
    {
        using var pull = pulls.Begin(PullFeature.Peer(context.Connection.RemoteIpAddress), decoded.Route.Registry, decoded.Repository, decoded.Reference);
        context.Features.Set(new PullFeature(pull));
        await ServePermittedAsync(context, decoded).ConfigureAwait(false);
        if (context.Response.StatusCode < 400)
        {
            pull.Succeeded();
        }
    }

    private Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers[RegistryHeaders.ApiVersion] = "registry/2.0";
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return OciErrorResponse.WriteAsync(context, HttpStatusCode.MethodNotAllowed, OciErrorCode.Unsupported, $"{request.Method} is not supported: this registry is a pull-through mirror");
        }
        if (RegistryRequest.TryDecode(request.Path.Value ?? "", request.Query["ns"], options.DefaultRegistry, rules, out var path, out var decoded, out var error))
        {
            if (decoded.Resource is RegistryResource.TagList or RegistryResource.Referrers)
            {
                // A listing is no part of an image pull: it is checked as the repository's content is, and not tracked.
                return ServePermittedAsync(context, decoded);
            }
            if (decoded.Resource == RegistryResource.Manifest)
            {
                leadTimes.Requested(decoded.Route.Registry, decoded.Repository, decoded.Reference);
            }
            return ServeInPullAsync(context, decoded);
        }
        if (error is not null)
        {
            return OciErrorResponse.WriteAsync(context, error);
        }
        switch (path.Resource)
        {
            case RegistryResource.ApiBase:
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = 2;
                return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : context.Response.WriteAsync("{}", context.RequestAborted);
            case RegistryResource.Unsupported:
                return OciErrorResponse.WriteAsync(context, HttpStatusCode.MethodNotAllowed, OciErrorCode.Unsupported, "uploads are not supported: this registry is a pull-through mirror");
            default:
                return OciErrorResponse.WriteAsync(context, HttpStatusCode.NotFound, OciErrorCode.NameUnknown, $"no registry API resource at /v2{request.Path}");
        }
    }

    private Task ServeAsync(HttpContext context, RegistryRequest request) => request.Resource switch
    {
        RegistryResource.Blob => blobs.ServeAsync(context, request.Route, request.Repository, Digest.Parse(request.Reference)),
        RegistryResource.TagList => listings.ServeAsync(context, request.Route, request.Repository, RegistryObject.TagList, ""),
        RegistryResource.Referrers => listings.ServeAsync(context, request.Route, request.Repository, RegistryObject.Referrers, request.Reference),
        _ => manifests.ServeAsync(context, request.Route, request.Repository, request.Reference),
    };

    private Task ServePermittedAsync(HttpContext context, RegistryRequest request) =>
        privateImages.IsKnownServable(request.Route.Registry, request.Repository) ? ServeAsync(context, request) : ServeCheckedAsync(context, request);

    // A repository not known to be public is checked against the private-image policy first; a refusal sends containerd upstream.
    private async Task ServeCheckedAsync(HttpContext context, RegistryRequest request)
    {
        // Privacy is the repository's: a listing is probed as a manifest of it, and a tag that is not there still tells a
        // private repository (401 to an anonymous HEAD) from a public one (404).
        var (kind, reference) = request.Resource switch
        {
            RegistryResource.Blob => (RegistryObject.Blob, request.Reference),
            RegistryResource.Manifest => (RegistryObject.Manifest, request.Reference),
            RegistryResource.Referrers => (RegistryObject.Manifest, request.Reference),
            _ => (RegistryObject.Manifest, "latest"),
        };
        if (await privateImages.CheckAsync(request.Route, request.Repository, kind, reference, context.RequestAborted).ConfigureAwait(false) is { } refusal)
        {
            await OciErrorResponse.WriteAsync(context, refusal).ConfigureAwait(false);
            return;
        }
        await ServeAsync(context, request).ConfigureAwait(false);
    }
}
