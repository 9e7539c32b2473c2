using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using NodeCache.Oci;

namespace NodeCache.Mirror;

/// <summary>The upstream's last word on a manifest reference (registry, repository, tag or digest): allowed at a time, or denied.</summary>
/// <remarks>
/// Allowances live in memory only: after a restart every cached manifest is asked about again before it is served
/// without the upstream, and served stale only while the upstream cannot answer. Denials are also written to a file
/// beside the index, so a manifest whose last answer was a denial is never served again from the cache, not even after
/// a restart with the upstream down, until the upstream allows it.
/// </remarks>
internal sealed partial class ManifestVerdicts
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _allowed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Denial> _denied = new(StringComparer.Ordinal);
    private readonly string? _path;
    private readonly ILogger _logger;
    private readonly Lock _writeTurn = new();

    // Set under the gate after every change to the denials, so that a request need not build its keys while there are none.
    private readonly Lock _denialsGate = new();
    private volatile bool _anyDenied;

    /// <param name="path">The file denials are kept in; null keeps them in memory only.</param>
    public ManifestVerdicts(string? path, ILogger logger)
    {
        _path = path;
        _logger = logger;
        foreach (var denial in Load())
        {
            _denied[denial.Key] = denial;
        }
        _anyDenied = !_denied.IsEmpty;
    }

    /// <summary>False when nothing is denied: no key need be looked up.</summary>
    public bool HasDenials => _anyDenied;

    public static string Key(string registry, RepositoryName repository, string reference) =>
        $"{registry}/{repository}{(Digest.LooksLikeDigest(reference) ? "@" : ":")}{reference}";

    /// <summary>True when the upstream allowed the reference less than <paramref name="window"/> ago (any time, for a null window) and has not denied it since.</summary>
    public bool IsAllowedWithin(string key, TimeSpan? window, DateTimeOffset now)
    {
        if (_denied.ContainsKey(key))
        {
            return false;
        }
        if (window is not { } within)
        {
            return true;
        }
        return _allowed.TryGetValue(key, out var at) && now - at < within;
    }

    public bool TryGetDenial(string key, out Denial denial) => _denied.TryGetValue(key, out denial!);

    public void Allow(string key, DateTimeOffset now)
    {
        _allowed[key] = now;
        if (_denied.TryRemove(key, out _))
        {
            lock (_denialsGate)
            {
                _anyDenied = !_denied.IsEmpty;
            }
            _logger.LogInformation("Upstream allows {Reference} again", key);
            Save();
        }
    }

    /// <summary>
    /// The upstream could not answer and had not denied the reference: ask again after a window, not at every request,
    /// so that an outage costs one upstream attempt per manifest and window instead of delaying every pull.
    /// </summary>
    public void Defer(string key, DateTimeOffset now)
    {
        if (!_denied.ContainsKey(key))
        {
            _allowed[key] = now;
        }
    }

    public void Deny(string key, MirrorError error, DateTimeOffset now)
    {
        _allowed.TryRemove(key, out _);
        var denial = new Denial(key, error.UpstreamStatus ?? 0, error.Code, error.Message, error.UpstreamBody, error.UpstreamContentType, now);
        var isNew = !_denied.TryGetValue(key, out var previous) || previous.Status != denial.Status || previous.Body != denial.Body;
        lock (_denialsGate)
        {
            _denied[key] = denial;
            _anyDenied = true;
        }
        if (isNew)
        {
            Save();
        }
    }

    private List<Denial> Load()
    {
        if (_path is null || !File.Exists(_path))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(_path), DenialsJson.Default.ListDenial) ?? [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // Without the file, denied manifests are still asked about before they are served; only an unreachable upstream would serve them.
            _logger.LogError("Could not read the remembered denials in {Path}: {Reason}; cached manifests are revalidated before use", _path, ex.Message);
            return [];
        }
    }

    // Denials are rare (a policy change, a deleted image): rewriting the whole file through a rename keeps it whole after a crash.
    private void Save()
    {
        if (_path is null)
        {
            return;
        }
        lock (_writeTurn)
        {
            var temporary = _path + ".new";
            try
            {
                using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    JsonSerializer.Serialize(file, _denied.Values.OrderBy(d => d.Key, StringComparer.Ordinal).ToList(), DenialsJson.Default.ListDenial);
                    file.Flush(flushToDisk: true);
                }
                File.Move(temporary, _path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogError("Could not write the remembered denials to {Path}: {Reason}", _path, ex.Message);
            }
        }
    }

    /// <summary>A denial as remembered: enough to answer it again exactly as the upstream did.</summary>
    internal sealed record Denial(string Key, int Status, string Code, string Message, string? Body, string? ContentType, DateTimeOffset At)
    {
        public MirrorError ToError() => MirrorError.FromUpstreamRefusal(Status, Code, Message, Body, ContentType);
    }

    // Generated at build time, so the file is read and written the same way in the trimmed image.
    [JsonSerializable(typeof(List<Denial>))]
    private sealed partial class DenialsJson : JsonSerializerContext;
}
