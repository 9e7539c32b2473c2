using NodeCache.Access;
using NodeCache.Agent.Configuration;
using NodeCache.Mirror;
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
    UpstreamRules rules, AgentOptions options, ManifestEndpoint manifests, BlobResponder blobs, ListingEndpoint listings, PrefetchLeadTimes leadTimes,
    ILogger<RegistryEndpoint> logger)
{
    public Task HandleAsync(HttpContext context) => OciErrorResponse.AnswerFailuresAsync(context, DispatchAsync, logger);

    private Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers[RegistryHeaders.ApiVersion] = "registry/2.0";
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return OciErrorResponse.WriteAsync(context, MirrorFailure.Unsupported, OciErrorCode.Unsupported, $"{request.Method} is not supported: this registry is a pull-through mirror");
        }
        if (RegistryRequest.TryDecode(request.Path.Value ?? "", request.Query["ns"], options.DefaultRegistry, rules, out var path, out var decoded, out var error))
        {
            if (decoded.Resource is RegistryResource.TagList or RegistryResource.Referrers)
            {
                return listings.ServeAsync(context, decoded);
            }
            if (decoded.Resource == RegistryResource.Blob)
            {
                return blobs.ServeAsync(decoded, new KestrelBlobResponse(context));
            }
            leadTimes.Requested(decoded.Route.Registry, decoded.Repository, decoded.Reference);
            return manifests.ServeAsync(context, decoded);
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
                return OciErrorResponse.WriteAsync(context, MirrorFailure.Unsupported, OciErrorCode.Unsupported, "uploads are not supported: this registry is a pull-through mirror");
            default:
                return OciErrorResponse.WriteAsync(context, MirrorFailure.NotFound, OciErrorCode.NameUnknown, $"no registry API resource at /v2{request.Path}");
        }
    }
}
