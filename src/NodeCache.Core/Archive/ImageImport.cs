using System.Formats.Tar;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Telemetry;

namespace NodeCache.Archive;

/// <summary>
/// Loads the images of an OCI image layout (folder or tar) or a <c>docker save</c> tarball into the cache, for nodes that
/// must start pods with no registry reachable. Every blob is hashed and checked against the digest that names it before
/// anything is committed; an archive that fails any check leaves nothing behind. Tags are registered under the
/// registry name given, as if the upstream had just named them.
/// </summary>
public sealed class ImageImport
{
    private readonly CacheLayout _layout;
    private readonly BlobStore _store;
    private readonly TagIndex _tags;
    private readonly PolicyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ImageImport(CacheLayout layout, BlobStore store, TagIndex tags, PolicyMetrics metrics, TimeProvider time, ILogger logger)
    {
        (_layout, _store, _tags, _metrics, _time, _logger) = (layout, store, tags, metrics, time, logger);
    }

    /// <summary>Imports a tar (plain or gzip'd) read once from <paramref name="tar"/>, which need not seek: an upload as it arrives.</summary>
    public Task<ImportResult> ImportAsync(Stream tar, ImportRequest request, IProgress<ArchiveProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        return ImportAsync(() => StagedArchive.FromTarAsync(tar, _layout, progress, cancellationToken), request, progress, cancellationToken);
    }

    /// <summary>Imports an OCI image layout folder.</summary>
    public Task<ImportResult> ImportFolderAsync(string folder, ImportRequest request, IProgress<ArchiveProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        return ImportAsync(() => StagedArchive.FromFolderAsync(folder, _layout, progress, cancellationToken), request, progress, cancellationToken);
    }

    private async Task<ImportResult> ImportAsync(Func<Task<StagedArchive>> stage, ImportRequest request, IProgress<ArchiveProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!RegistryHost.IsValid(request.Registry))
        {
            return ImportResult.Failed($"'{request.Registry}' is not a registry name");
        }
        StagedArchive archive;
        try
        {
            archive = await stage().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            return Refused($"not a readable tar archive: {ex.Message}");
        }
        using (archive)
        {
            var plan = new ImportPlan();
            string? error;
            try
            {
                progress?.Report(new ArchiveProgress("verifying", 0, 0));
                error = OciLayoutReader.IsLayout(archive) ? await OciLayoutReader.PlanAsync(archive, request, plan, cancellationToken).ConfigureAwait(false)
                    : DockerSaveReader.IsDockerSave(archive) ? await DockerSaveReader.PlanAsync(archive, request, plan, cancellationToken).ConfigureAwait(false)
                    : "neither an OCI image layout (oci-layout, index.json) nor a docker save tarball (manifest.json)";
            }
            catch (InvalidDataException ex)
            {
                error = $"a compressed layer cannot be read: {ex.Message}";
            }
            if (error is not null)
            {
                return Refused(error);
            }
            return Commit(plan, request, progress);
        }
    }

    // Blobs before the manifests that name them, tags last: a tag never points at something not yet in the cache.
    private ImportResult Commit(ImportPlan plan, ImportRequest request, IProgress<ArchiveProgress>? progress)
    {
        var newBlobs = 0;
        long newBytes = 0;
        foreach (var blob in plan.Blobs)
        {
            if (_store.Contains(blob.Digest))
            {
                continue;
            }
            if (blob.Staged is { } staged)
            {
                _store.Commit(staged.TempPath, blob.Digest, blob.Size, blob.MediaType);
            }
            else
            {
                _store.Put(blob.Digest, blob.Bytes, blob.MediaType);
            }
            newBlobs++;
            newBytes += blob.Size;
            progress?.Report(new ArchiveProgress("committing", newBlobs, newBytes));
        }
        var now = _time.GetUtcNow();
        foreach (var tag in plan.Tags)
        {
            _tags.Upsert(request.Registry, tag.Repository, tag.Tag, new TagRecord(tag.Digest, tag.MediaType, tag.Size, now));
        }
        _metrics.Imported(plan.Images.Count, newBlobs, newBytes);
        _logger.LogInformation("Imported {Images} images for {Registry}: {Tags}; {NewBlobs} blobs ({NewBytes} bytes) new to the cache",
            plan.Images.Count, request.Registry, string.Join(", ", plan.Tags.Select(t => $"{t.Repository}:{t.Tag}")), newBlobs, newBytes);
        return new ImportResult(plan.Images, newBlobs, newBytes, null);
    }

    private ImportResult Refused(string error)
    {
        _logger.LogWarning("Import refused, nothing imported: {Reason}", error);
        return ImportResult.Failed(error);
    }
}
