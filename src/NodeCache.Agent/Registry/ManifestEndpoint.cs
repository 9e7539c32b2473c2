using NodeCache.Mirror;
using NodeCache.Telemetry;

namespace NodeCache.Agent.Registry;

/// <summary>
/// Serves <c>/v2/&lt;name&gt;/manifests/&lt;tag|digest&gt;</c> with the headers containerd resolves by. The steps:
/// (1) Admit it: the pull it belongs to, and the private-image check.
/// (2) Resolve the reference: from the cache, the upstream, or (the upstream failing) a stale copy, this agent's or another's.
/// (3) Answer: the headers, then 304 for a matching ETag, or the bytes for a GET.
/// (4) Record what was served.
/// </summary>
internal sealed class ManifestEndpoint(ManifestResolver resolver, RegistryAdmission admission, MirrorMetrics metrics)
{
    public async Task ServeAsync(HttpContext context, RegistryRequest request)
    {
        // (1) Admit.
        using var admitted = await admission.AdmitAsync(request, context.Connection.RemoteIpAddress, context.RequestAborted).ConfigureAwait(false);
        if (admitted.Refusal is { } refusal)
        {
            metrics.Request("manifest", "error");
            await OciErrorResponse.WriteAsync(context, refusal).ConfigureAwait(false);
            return;
        }

        // (2) Resolve.
        var accept = context.Request.Headers.Accept.ToString();
        var answer = await resolver.ResolveAsync(request.Route, request.Repository, request.Reference, string.IsNullOrEmpty(accept) ? null : accept, context.RequestAborted).ConfigureAwait(false);
        if (answer.Manifest is not { } manifest)
        {
            metrics.Request("manifest", "error");
            await OciErrorResponse.WriteAsync(context, answer.Error!).ConfigureAwait(false);
            return;
        }

        // (3) Answer.
        var response = context.Response;
        RegistryHeaders.SetContent(response, manifest.Digest, manifest.MediaType, manifest.Bytes.Length);
        long sent = 0;
        if (RegistryHeaders.MatchesETag(context.Request, manifest.Digest))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            response.ContentLength = null;
        }
        else if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(manifest.Bytes, context.RequestAborted).ConfigureAwait(false);
            sent = manifest.Bytes.Length;
        }

        // (4) Record.
        metrics.Request("manifest", answer.Source switch
        {
            ManifestSource.Cache => "hit",
            ManifestSource.Stale or ManifestSource.Peer => "stale",
            _ => "miss",
        });
        if (sent > 0)
        {
            metrics.Served(answer.Source switch
            {
                ManifestSource.Upstream => "upstream",
                ManifestSource.Peer => "peer",
                _ => "cache",
            }, sent);
            admitted.Pull.ServedManifest(sent);
        }
        admitted.Pull.Succeeded();
    }
}
