using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;
using NodeCache.Store.Index;

namespace NodeCache.Store.Blobs;

/// <summary>What bringing the files and the index back into agreement at start found and did.</summary>
/// <param name="TempFilesRemoved">Files of fills a crash interrupted.</param>
/// <param name="RecordsDropped">Index records whose file is gone or has another size.</param>
/// <param name="FilesAdopted">Blob files without a record whose bytes are their digest's: indexed again.</param>
/// <param name="FilesDeleted">Blob files without a record that are not their digest's, or not named by one.</param>
/// <param name="Blobs">Blobs indexed afterwards.</param>
/// <param name="UsedBytes">Their bytes.</param>
/// <param name="Elapsed">How long it took.</param>
public readonly record struct RecoveryReport(int TempFilesRemoved, int RecordsDropped, int FilesAdopted, int FilesDeleted, long Blobs, long UsedBytes, TimeSpan Elapsed);

/// <summary>
/// Run once at start, before the first request: after a crash the files and the recovered index may disagree, since the
/// index was checkpointed a while before. A temp file is removed; a record without its file (or with a file of another
/// size) is dropped; a file without a record is hashed and indexed again when its bytes are its name's, deleted when not.
/// Afterwards every record has its file, and nothing partial can be served.
/// </summary>
public static class CacheRecovery
{
    public static RecoveryReport Run(CacheLayout layout, BlobStore store, BlobIndex index, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(index);
        var clock = Stopwatch.StartNew();
        var tempRemoved = store.RemoveTempFiles();
        // One listing of each algorithm's folder gives every file's size; no stat per record.
        var files = new Dictionary<(DigestAlgorithm Algorithm, string Name), long>();
        foreach (var algorithm in DigestAlgorithms.All)
        {
            foreach (var file in new DirectoryInfo(layout.BlobDirectory(algorithm)).EnumerateFiles())
            {
                files[(algorithm, file.Name)] = file.Length;
            }
        }
        var dropped = 0;
        long used = 0;
        var stale = new List<(Digest Digest, long Size)>();
        foreach (var (digest, record) in index.Entries())
        {
            if (files.Remove((digest.Algorithm, digest.Hex), out var length) && length == record.Size)
            {
                used += record.Size;
                continue;
            }
            stale.Add((digest, record.Size));
        }
        store.SetUsedBytes(used + stale.Sum(s => s.Size));
        foreach (var (digest, size) in stale)
        {
            logger.LogWarning("Blob {Digest} is indexed with {Size} bytes but its file is missing or of another size; dropping it", digest, size);
            store.Forget(digest, size);
            store.DeleteStrayFile(layout.BlobPath(digest));
            dropped++;
        }
        var adopted = 0;
        var deleted = 0;
        // What is left in the listing has no record: a blob committed after the last checkpoint, or debris.
        foreach (var ((algorithm, name), length) in files)
        {
            // blobs/<algorithm>/<hex>: the folder names the algorithm, the file the hash (of that algorithm's length).
            var path = Path.Combine(layout.BlobDirectory(algorithm), name);
            if (Digest.TryParse($"{algorithm.Name}:{name}", out var digest) && HashOf(path, algorithm) == digest)
            {
                store.Adopt(digest, length, SniffMediaType(path, length));
                adopted++;
                continue;
            }
            logger.LogWarning("Deleting {Path}: a file in the blob folder without an index record, whose bytes are not its name's", path);
            store.DeleteStrayFile(path);
            deleted++;
        }
        var report = new RecoveryReport(tempRemoved, dropped, adopted, deleted, index.Count, store.UsedBytes, clock.Elapsed);
        logger.LogInformation(
            "Cache recovered in {Elapsed} ms: {Blobs} blobs, {Bytes} bytes; {Temp} temp files removed, {Dropped} records without a good file dropped, {Adopted} unindexed files verified and indexed, {Deleted} bad files deleted",
            (long)report.Elapsed.TotalMilliseconds, report.Blobs, report.UsedBytes, tempRemoved, dropped, adopted, deleted);
        return report;
    }

    private static Digest? HashOf(string path, DigestAlgorithm algorithm)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            return Digest.Compute(algorithm, stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The media type was in the lost record. A manifest names its own (as the spec asks it to), or is told by its members;
    // anything else is served as bytes, which is all a client expects of a layer.
    private static string SniffMediaType(string path, long length)
    {
        if (length > MediaTypes.MaxManifestSize)
        {
            return MediaTypes.OctetStream;
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return MediaTypes.OctetStream;
            }
            if (root.TryGetProperty("mediaType", out var mediaType) && mediaType.ValueKind == JsonValueKind.String
                && mediaType.GetString() is { Length: > 0 } named && StoredMediaType.IsStorable(named))
            {
                return named;
            }
            if (root.TryGetProperty("manifests", out _))
            {
                return MediaTypes.OciIndex;
            }
            return root.TryGetProperty("layers", out _) ? MediaTypes.OciManifest : MediaTypes.OctetStream;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return MediaTypes.OctetStream;
        }
    }
}
