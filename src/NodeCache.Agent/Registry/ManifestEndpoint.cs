using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>Serves <c>/v2/&lt;name&gt;/manifests/&lt;tag|digest&gt;</c> with the headers containerd resolves by.</summary>
internal sealed class ManifestEndpoint(ManifestResolver resolver, MirrorMetrics metrics)
{
    public async Task ServeAsync(HttpContext context, UpstreamRoute route, RepositoryName repository, string reference)
    {
        var accept = context.Request.Headers.Accept.ToString();
        var answer = await resolver.ResolveAsync(route, repository, reference, string.IsNullOrEmpty(accept) ? null : accept, context.RequestAborted).ConfigureAwait(false);
        if (answer.Manifest is not { } manifest)
        {
            metrics.Request("manifest", "error");
            await OciErrorResponse.WriteAsync(context, answer.Error!).ConfigureAwait(false);
            return;
        }
        metrics.Request("manifest", answer.Source switch
        {
            ManifestSource.Cache => "hit",
            ManifestSource.Stale => "stale",
            _ => "miss",
        });
        var response = context.Response;
        RegistryHeaders.SetContent(response, manifest.Digest, manifest.MediaType, manifest.Bytes.Length);
        if (RegistryHeaders.MatchesETag(context.Request, manifest.Digest))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            response.ContentLength = null;
            return;
        }
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(manifest.Bytes, context.RequestAborted).ConfigureAwait(false);
            metrics.Served(answer.Source == ManifestSource.Upstream ? "upstream" : "cache", manifest.Bytes.Length);
            PullFeature.ServedManifest(context, manifest.Bytes.Length);
        }
    }
}
