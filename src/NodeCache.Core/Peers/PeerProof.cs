using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NodeCache.Peers;

/// <summary>Whether a peer request proved the cluster's secret.</summary>
public enum PeerProofCheck
{
    Valid,
    Missing,
    Expired,
    Wrong,
}

/// <summary>
/// Proves a peer request was made by a holder of the cluster's secret without sending it: an HMAC-SHA256 under the secret
/// of the method, the path and query, a timestamp and the requester's own peer URL. Plain HTTP between nodes then never
/// reveals the secret, a proof cannot be moved to another path or requester, and it is good only within a few minutes of
/// its timestamp. Within that window a captured request can be sent again, which yields what its observer already saw.
/// </summary>
public sealed class PeerProof(PeerSecret secret, TimeProvider time)
{
    /// <summary>The requester's own peer URL: who asks, for the answer's bookkeeping (fan-out, loops).</summary>
    public const string PeerHeader = "X-NodeCache-Peer";

    /// <summary>Unix seconds when the proof was made.</summary>
    public const string TimeHeader = "X-NodeCache-Peer-Time";

    /// <summary>The HMAC, base64url.</summary>
    public const string ProofHeader = "X-NodeCache-Peer-Proof";

    /// <summary>How far the requester's clock may be from this agent's: node clocks are NTP-synchronised far better than this.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(2);

    private const string Version = "nodecache-peer-v1";

    /// <summary>The three header values for a request.</summary>
    public (string Peer, string Time, string Proof) Sign(string method, string pathAndQuery, string requester)
    {
        var at = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return (requester, at, Compute(method, pathAndQuery, at, requester));
    }

    public PeerProofCheck Verify(string method, string pathAndQuery, string? requester, string? at, string? proof)
    {
        if (string.IsNullOrEmpty(requester) || string.IsNullOrEmpty(at) || string.IsNullOrEmpty(proof))
        {
            return PeerProofCheck.Missing;
        }
        if (!long.TryParse(at, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - seconds) > MaxSkew.TotalSeconds)
        {
            return PeerProofCheck.Expired;
        }
        var expected = Encoding.ASCII.GetBytes(Compute(method, pathAndQuery, at, requester));
        var given = Encoding.ASCII.GetBytes(proof);
        return CryptographicOperations.FixedTimeEquals(expected, given) ? PeerProofCheck.Valid : PeerProofCheck.Wrong;
    }

    private string Compute(string method, string pathAndQuery, string at, string requester)
    {
        var message = Encoding.UTF8.GetBytes($"{Version}\n{method.ToUpperInvariant()}\n{pathAndQuery}\n{at}\n{requester}");
        return Convert.ToBase64String(secret.Mac(message)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
