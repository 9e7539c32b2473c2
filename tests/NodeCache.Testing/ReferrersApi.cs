using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using NodeCache.Oci;

namespace NodeCache.Testing;

/// <summary>One entry of a referrers list: an artifact manifest that names the subject, as the registry describes it.</summary>
public sealed record Referrer(Digest Digest, long Size, string ArtifactType, IReadOnlyDictionary<string, string>? Annotations = null);

/// <summary>
/// The OCI 1.1 referrers API, which the distribution registry 2.8 lacks, answered by <see cref="FaultProxy"/> in front of
/// it as a registry that has it does: an image index of the referrers registered for a subject (the artifact manifests
/// themselves are pushed to the real registry), filtered by <c>artifactType</c> with <c>OCI-Filters-Applied</c>, an empty
/// index for a subject nobody refers to, and pages of <see cref="PageSize"/> with a <c>Link</c> to the next.
/// </summary>
public sealed partial class ReferrersApi
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Referrer>> _referrers = new(StringComparer.Ordinal);

    /// <summary>Referrers per page; a longer list gets a <c>Link</c> with <c>page=N</c>.</summary>
    public int PageSize { get; set; } = int.MaxValue;

    public void Add(Digest subject, Referrer referrer) =>
        _referrers.GetOrAdd(subject.ToString(), _ => new ConcurrentQueue<Referrer>()).Enqueue(referrer);

    /// <summary>True when the request was a referrers request, which it then answered.</summary>
    public async Task<bool> TryServeAsync(HttpContext context)
    {
        var match = Route().Match(context.Request.Path.Value ?? "");
        if (!match.Success)
        {
            return false;
        }
        var request = context.Request;
        var artifactType = request.Query["artifactType"].FirstOrDefault();
        var page = int.TryParse(request.Query["page"].FirstOrDefault(), out var number) ? number : 0;
        var all = _referrers.TryGetValue(match.Groups["digest"].Value, out var found) ? [.. found] : new List<Referrer>();
        var selected = artifactType is null ? all : all.Where(r => r.ArtifactType == artifactType).ToList();
        var onPage = selected.Skip(page * PageSize).Take(PageSize).ToList();
        if (selected.Count > (page + 1) * (long)PageSize)
        {
            var filter = artifactType is null ? "" : $"artifactType={Uri.EscapeDataString(artifactType)}&";
            context.Response.Headers.Link = $"<{request.Path}?{filter}page={page + 1}>; rel=\"next\"";
        }
        if (artifactType is not null)
        {
            context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciIndex,
            manifests = onPage.Select(r => new { mediaType = MediaTypes.OciManifest, digest = r.Digest.ToString(), size = r.Size, artifactType = r.ArtifactType, annotations = r.Annotations }),
        });
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = MediaTypes.OciIndex;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
        return true;
    }

    [GeneratedRegex("^/v2/.+/referrers/(?<digest>[a-z0-9]+:[a-zA-Z0-9=_-]+)$")]
    private static partial Regex Route();
}
