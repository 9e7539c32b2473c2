using System.Security.Cryptography;
using System.Text;

namespace NodeCache.Peers;

/// <summary>The cluster's shared peer secret (<c>--peer-token-file</c>): the key every peer request's proof is made with. It is never sent.</summary>
public sealed class PeerSecret
{
    // 128 bits: a secret shorter than that could be guessed from a captured proof by brute force.
    private const int MinimumLength = 16;

    private readonly byte[] _key;

    private PeerSecret(byte[] key) => _key = key;

    /// <exception cref="FormatException">The file cannot be read or holds fewer than 16 bytes; the message names the path, never the content.</exception>
    public static PeerSecret Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--peer-token-file '{path}': {ex.Message}");
        }
        return FromText(text.Trim(), $"--peer-token-file '{path}'");
    }

    /// <exception cref="FormatException">Fewer than 16 bytes.</exception>
    public static PeerSecret FromText(string secret, string what = "the peer secret")
    {
        var key = Encoding.UTF8.GetBytes(secret);
        return key.Length >= MinimumLength ? new PeerSecret(key) : throw new FormatException($"{what}: the secret must be at least {MinimumLength} bytes");
    }

    internal byte[] Mac(ReadOnlySpan<byte> message) => HMACSHA256.HashData(_key, message);
}
