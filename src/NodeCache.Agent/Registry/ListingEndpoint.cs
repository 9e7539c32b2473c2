using NodeCache.Mirror;
using NodeCache.Oci;
using NodeCache.Telemetry;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>Serves <c>/v2/&lt;name&gt;/tags/list</c> and <c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c> as the upstream answers them.</summary>
internal sealed class ListingEndpoint(ListingResolver resolver, RegistryAdmission admission, MirrorMetrics metrics)
{
    private const string FiltersAppliedHeader = "OCI-Filters-Applied";

    public async Task ServeAsync(HttpContext context, RegistryRequest decoded)
    {
        var kind = decoded.Resource == RegistryResource.TagList ? RegistryObject.TagList : RegistryObject.Referrers;
        var metricKind = kind == RegistryObject.TagList ? "tags" : "referrers";
        using var admitted = await admission.AdmitAsync(decoded, context.Connection.RemoteIpAddress, context.RequestAborted).ConfigureAwait(false);
        if (admitted.Refusal is { } refusal)
        {
            metrics.Request(metricKind, "error");
            await OciErrorResponse.WriteAsync(context, refusal).ConfigureAwait(false);
            return;
        }
        var request = context.Request;
        var query = request.Query.Where(p => p.Key != "ns").SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? ""))).ToList();
        var accept = request.Headers.Accept.ToString();
        var listing = new ListingRequest(kind, decoded.Reference, query, string.IsNullOrEmpty(accept) ? null : accept);
        var answer = await resolver.ResolveAsync(decoded.Route, decoded.Repository, listing, context.RequestAborted).ConfigureAwait(false);
        if (answer.Listing is not { } found)
        {
            metrics.Request(metricKind, "error");
            await OciErrorResponse.WriteAsync(context, answer.Error!).ConfigureAwait(false);
            return;
        }
        metrics.Request(metricKind, answer.Source switch
        {
            ListingSource.Kept => "hit",
            ListingSource.Stale => "stale",
            _ => "miss",
        });
        var response = context.Response;
        response.ContentType = found.ContentType;
        response.ContentLength = found.Body.Length;
        if (found.Link is { } next)
        {
            response.Headers.Link = ListingLink.Header(next, request.Query["ns"]);
        }
        if (found.FiltersApplied is { } filters)
        {
            response.Headers[FiltersAppliedHeader] = filters;
        }
        if (!HttpMethods.IsHead(request.Method))
        {
            await response.Body.WriteAsync(found.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
