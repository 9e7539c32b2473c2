using System.Text.Json;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Measurement;

/// <summary>Blob GETs the upstream registry completed for one digest, and the body bytes it wrote for them.</summary>
internal readonly record struct BlobTraffic(int Gets, long Bytes)
{
    /// <summary>What was added between two readings.</summary>
    public BlobTraffic Since(BlobTraffic before) => new(Gets - before.Gets, Bytes - before.Bytes);
}

/// <summary>
/// Reads the upstream registry's JSON log: each completed request is a line with <c>http.request.method</c>,
/// <c>http.request.uri</c>, <c>http.response.status</c> and <c>http.response.written</c> (body bytes). The fixture copies
/// stderr lines into its log file behind an "[err] " prefix.
/// </summary>
internal static class UpstreamTraffic
{
    private const string StderrPrefix = "[err] ";

    // How long a reading must stay unchanged to count as settled, and how long to wait for that at most.
    private static readonly TimeSpan SettleStep = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Totals once they stop moving: the registry in proxy mode stores a blob with a fetch of its own that may end after
    /// the client's response, and that fetch belongs to the measurement that caused it.
    /// </summary>
    public static async Task<BlobTraffic> SettledAsync(RegistryProcess upstream, Digest? digest, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + SettleLimit;
        var last = await OfBlobAsync(upstream, digest, cancellationToken);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(SettleStep, cancellationToken);
            var now = await OfBlobAsync(upstream, digest, cancellationToken);
            if (now == last)
            {
                return now;
            }
            last = now;
        }
        return last;
    }

    /// <summary>Totals so far for <paramref name="digest"/> (every blob when null); flushes the registry's log first so every answered request is in it.</summary>
    public static async Task<BlobTraffic> OfBlobAsync(RegistryProcess upstream, Digest? digest, CancellationToken cancellationToken)
    {
        await upstream.FlushLogAsync(cancellationToken);
        var suffix = digest is { } one ? "/blobs/" + one : "/blobs/sha256:";
        var gets = 0;
        long bytes = 0;
        using var file = new FileStream(upstream.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(file);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            var json = line.StartsWith(StderrPrefix, StringComparison.Ordinal) ? line[StderrPrefix.Length..] : line;
            if (!json.StartsWith('{') || !json.Contains(suffix, StringComparison.Ordinal) || json.Contains("/blobs/uploads/", StringComparison.Ordinal))
            {
                continue;
            }
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("http.request.method", out var method) && method.GetString() == "GET"
                && root.TryGetProperty("http.request.uri", out var uri) && IsBlobPath(uri.GetString()!.Split('?')[0], suffix, digest is not null)
                && root.TryGetProperty("http.response.status", out var status) && status.ValueKind == JsonValueKind.Number && status.GetInt32() is >= 200 and < 300)
            {
                gets++;
                bytes += root.TryGetProperty("http.response.written", out var written) && written.ValueKind == JsonValueKind.Number ? written.GetInt64() : 0;
            }
        }
        return new BlobTraffic(gets, bytes);
    }

    private static bool IsBlobPath(string path, string suffix, bool exact) =>
        exact ? path.EndsWith(suffix, StringComparison.Ordinal) : path.Contains(suffix, StringComparison.Ordinal);
}
