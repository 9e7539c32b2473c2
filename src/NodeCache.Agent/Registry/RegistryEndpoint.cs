using System.Net;
using NodeCache.Agent.Configuration;
using NodeCache.Oci;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>
/// The pull side of the distribution API under <c>/v2/</c>: validates the path, picks the upstream from <c>?ns=</c>,
/// and hands manifests and blobs to their endpoints. Anything it cannot serve fails fast, so containerd tries its next host.
/// </summary>
internal sealed class RegistryEndpoint(UpstreamRules rules, AgentOptions options, ManifestEndpoint manifests, BlobEndpoint blobs, ILogger<RegistryEndpoint> logger)
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

    private Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers[RegistryHeaders.ApiVersion] = "registry/2.0";
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            return OciErrorResponse.WriteAsync(context, HttpStatusCode.MethodNotAllowed, OciErrorCode.Unsupported, $"{request.Method} is not supported: this registry is a pull-through mirror");
        }
        var path = RegistryPath.Parse(request.Path.Value ?? "");
        switch (path.Resource)
        {
            case RegistryResource.ApiBase:
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = 2;
                return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : context.Response.WriteAsync("{}", context.RequestAborted);
            case RegistryResource.Unsupported:
                return OciErrorResponse.WriteAsync(context, HttpStatusCode.MethodNotAllowed, OciErrorCode.Unsupported, "only manifests and blobs are mirrored");
            case RegistryResource.Unknown:
                return OciErrorResponse.WriteAsync(context, HttpStatusCode.NotFound, OciErrorCode.NameUnknown, $"no registry API resource at /v2{request.Path}");
        }
        if (!RepositoryName.TryParse(path.Name, out var repository))
        {
            return OciErrorResponse.WriteAsync(context, HttpStatusCode.BadRequest, OciErrorCode.NameInvalid, $"invalid repository name '{Printable(path.Name)}'");
        }
        var registry = RegistryOf(request);
        if (!RegistryHost.IsValid(registry))
        {
            return OciErrorResponse.WriteAsync(context, HttpStatusCode.BadRequest, OciErrorCode.NameInvalid, $"invalid registry '{Printable(registry)}' in ns");
        }
        if (!rules.TryResolve(registry, out var route))
        {
            return OciErrorResponse.WriteAsync(context, HttpStatusCode.NotFound, OciErrorCode.NameUnknown, $"no upstream is configured for registry '{Printable(registry)}'");
        }
        if (path.Resource == RegistryResource.Blob)
        {
            return Digest.TryParse(path.Reference, out var digest)
                ? blobs.ServeAsync(context, route, repository, digest)
                : OciErrorResponse.WriteAsync(context, HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid, $"invalid digest '{Printable(path.Reference)}': expected sha256:<64 lowercase hex>");
        }
        if (Digest.LooksLikeDigest(path.Reference) ? !Digest.TryParse(path.Reference, out _) : !Tag.IsValid(path.Reference))
        {
            var (code, what) = Digest.LooksLikeDigest(path.Reference) ? (OciErrorCode.DigestInvalid, "digest") : (OciErrorCode.ManifestInvalid, "tag");
            return OciErrorResponse.WriteAsync(context, HttpStatusCode.BadRequest, code, $"invalid {what} '{Printable(path.Reference)}'");
        }
        return manifests.ServeAsync(context, route, repository, path.Reference);
    }

    // containerd names the image's registry in ?ns= when it talks to a mirror; a client talking to us directly does not.
    private string RegistryOf(HttpRequest request)
    {
        var ns = request.Query["ns"].ToString();
        return string.IsNullOrEmpty(ns) ? options.DefaultRegistry : ns.ToLowerInvariant();
    }

    // Error messages echo what the client sent; keep them one printable line.
    private static string Printable(string text)
    {
        var clipped = text.Length > 200 ? text[..200] + "…" : text;
        return string.Concat(clipped.Select(c => char.IsControl(c) ? '?' : c));
    }
}
