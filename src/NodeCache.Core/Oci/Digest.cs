using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace NodeCache.Oci;

/// <summary>A SHA-256 content digest (<c>sha256:&lt;64 lowercase hex&gt;</c>), the only algorithm the cache stores.</summary>
public readonly struct Digest : IEquatable<Digest>
{
    public const string Prefix = "sha256:";
    public const int HashSize = 32;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    // Four words rather than a byte array: the digest is blittable, so it is the FASTER index key as it is.
    private readonly ulong _w0, _w1, _w2, _w3;

    private Digest(ReadOnlySpan<byte> hash)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(hash);
        (_w0, _w1, _w2, _w3) = (words[0], words[1], words[2], words[3]);
    }

    /// <summary>64 lowercase hex characters, as used in file names.</summary>
    public string Hex
    {
        get
        {
            Span<byte> hash = stackalloc byte[HashSize];
            CopyHashTo(hash);
            return Convert.ToHexStringLower(hash);
        }
    }

    public void CopyHashTo(Span<byte> destination)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(destination[..HashSize]);
        (words[0], words[1], words[2], words[3]) = (_w0, _w1, _w2, _w3);
    }

    public static Digest FromHash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != HashSize)
        {
            throw new ArgumentException($"a SHA-256 hash has {HashSize} bytes, not {hash.Length}", nameof(hash));
        }
        return new Digest(hash);
    }

    public static Digest Compute(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[HashSize];
        SHA256.HashData(content, hash);
        return new Digest(hash);
    }

    /// <summary>Parses <c>sha256:&lt;hex&gt;</c>; other algorithms and upper-case hex are refused, as the spec's canonical form demands.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Digest digest)
    {
        digest = default;
        if (text.Length != Prefix.Length + HashSize * 2 || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var hex = text[Prefix.Length..];
        if (hex.ContainsAnyExcept(LowerHex))
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[HashSize];
        if (Convert.FromHexString(hex, hash, out _, out _) != OperationStatus.Done)
        {
            return false;
        }
        digest = new Digest(hash);
        return true;
    }

    public static Digest Parse(string text) =>
        TryParse(text, out var digest) ? digest : throw new FormatException($"'{text}' is not a sha256 digest");

    /// <summary>True when the text names a digest at all (<c>algorithm:encoded</c>), even one this cache does not store.</summary>
    public static bool LooksLikeDigest(ReadOnlySpan<char> text) => text.Contains(':');

    public bool Equals(Digest other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Digest other && Equals(other);

    public override int GetHashCode() => (int)_w0;

    public override string ToString() => Prefix + Hex;

    public static bool operator ==(Digest left, Digest right) => left.Equals(right);

    public static bool operator !=(Digest left, Digest right) => !left.Equals(right);
}
