using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace NodeCache.Upstream;

/// <summary>Which token answers a request: the token server (realm and service), the scope it grants, and who asked (empty: the agent).</summary>
internal readonly record struct TokenKey(string Realm, string Service, string Scope, string Identity = "");

/// <summary>Bearer tokens per (realm, service, scope) until shortly before they expire.</summary>
internal sealed class TokenCache(TimeProvider time)
{
    // Expired entries of repositories nobody pulls again are only found by a sweep; sweeping past this many keeps it rare.
    private const int SweepThreshold = 1024;

    // A token checked here must still be valid when the registry checks it, a request's latency later.
    private static readonly TimeSpan MaxSlack = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<TokenKey, Entry> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet(TokenKey key, [NotNullWhen(true)] out string? token)
    {
        token = null;
        if (!_entries.TryGetValue(key, out var entry))
        {
            return false;
        }
        if (entry.ExpiresAt <= time.GetUtcNow())
        {
            _entries.TryRemove(new KeyValuePair<TokenKey, Entry>(key, entry));
            return false;
        }
        token = entry.Token;
        return true;
    }

    /// <summary>Keeps a token that the server said lives <paramref name="lifetime"/> from <paramref name="requestedAt"/> (our clock, not its issued_at: clocks differ).</summary>
    public void Store(TokenKey key, string token, DateTimeOffset requestedAt, TimeSpan lifetime)
    {
        var slack = lifetime / 4 < MaxSlack ? lifetime / 4 : MaxSlack;
        _entries[key] = new Entry(token, requestedAt + lifetime - slack);
        if (_entries.Count > SweepThreshold)
        {
            Sweep();
        }
    }

    /// <summary>Forgets a token the registry refused, unless another request has already replaced it.</summary>
    public void Drop(TokenKey key, string token)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Token == token)
        {
            _entries.TryRemove(new KeyValuePair<TokenKey, Entry>(key, entry));
        }
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var pair in _entries)
        {
            if (pair.Value.ExpiresAt <= now)
            {
                _entries.TryRemove(pair);
            }
        }
    }

    private sealed record Entry(string Token, DateTimeOffset ExpiresAt);
}
