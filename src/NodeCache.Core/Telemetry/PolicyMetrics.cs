using System.Diagnostics.Metrics;

namespace NodeCache.Telemetry;

/// <summary>Upstream denials, manifest revalidations and air-gap imports, on the mirror's meter. Labels stay bounded.</summary>
public sealed class PolicyMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _denials;
    private readonly Counter<long> _revalidations;
    private readonly Counter<long> _importedImages;
    private readonly Counter<long> _importedBlobs;
    private readonly Counter<long> _importedBytes;

    public PolicyMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MirrorMetrics.MeterName) ?? new Meter(MirrorMetrics.MeterName);
        _denials = _meter.CreateCounter<long>("nodecache_upstream_denials", description: "Manifest requests the upstream denied, passed to the client, by registry and reason (unauthorized, forbidden, not_found, policy, other).");
        _revalidations = _meter.CreateCounter<long>("nodecache_revalidations", description: "Cached manifests checked with the upstream, by kind (tag, digest) and result (allowed, changed, denied, stale).");
        _importedImages = _meter.CreateCounter<long>("nodecache_imported_images", description: "Images imported from archives.");
        _importedBlobs = _meter.CreateCounter<long>("nodecache_imported_blobs", description: "Blobs (layers, configs, manifests) imported from archives.");
        _importedBytes = _meter.CreateCounter<long>("nodecache_imported_bytes", "By", "Bytes of blobs imported from archives.");
    }

    public void Denied(string registry, int? upstreamStatus) =>
        _denials.Add(1, new KeyValuePair<string, object?>("registry", registry), new KeyValuePair<string, object?>("reason", Reason(upstreamStatus)));

    public void Revalidated(string kind, string result) =>
        _revalidations.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));

    public void Imported(int images, int blobs, long bytes)
    {
        _importedImages.Add(images);
        _importedBlobs.Add(blobs);
        _importedBytes.Add(bytes);
    }

    public void Dispose() => _meter.Dispose();

    private static string Reason(int? upstreamStatus) => upstreamStatus switch
    {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        412 => "policy",
        _ => "other",
    };
}
