using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace NodeCache.Oci;

/// <summary>A content digest: <c>sha256:&lt;64 lowercase hex&gt;</c> or <c>sha512:&lt;128 lowercase hex&gt;</c>.</summary>
public readonly struct Digest : IEquatable<Digest>
{
    /// <summary>The longest hash of any algorithm: SHA-512's.</summary>
    public const int MaxHashSize = 64;

    /// <summary>What a digest looks like, for error messages.</summary>
    public const string Forms = "sha256:<64 lowercase hex> or sha512:<128 lowercase hex>";

    private const string Sha256Prefix = "sha256:";
    private const string Sha384Prefix = "sha384:";
    private const int Sha384HexLength = 96;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    // A SHA-256 fills the first half; the second stays zero, so equality compares all of it.
    private readonly HashBytes _hash;

    private Digest(DigestAlgorithm algorithm, ReadOnlySpan<byte> hash)
    {
        Algorithm = algorithm;
        hash.CopyTo(_hash);
    }

    public DigestAlgorithm Algorithm { get; }

    /// <summary>Bytes of the hash: 32 for SHA-256, 64 for SHA-512.</summary>
    public int HashSize => Algorithm.HashSize;

    /// <summary>The hash in lowercase hex (64 or 128 characters), as used in file names.</summary>
    public string Hex => Convert.ToHexStringLower(Hash());

    /// <summary>Writes the hash (<see cref="HashSize"/> bytes) to the start of <paramref name="destination"/>.</summary>
    public void CopyHashTo(Span<byte> destination) => Hash().CopyTo(destination);

    /// <summary>The digest of a SHA-256 hash.</summary>
    public static Digest FromHash(ReadOnlySpan<byte> hash) => FromHash(DigestAlgorithm.Sha256, hash);

    public static Digest FromHash(DigestAlgorithm algorithm, ReadOnlySpan<byte> hash)
    {
        if (hash.Length != algorithm.HashSize)
        {
            throw new ArgumentException($"a {algorithm.Name} hash has {algorithm.HashSize} bytes, not {hash.Length}", nameof(hash));
        }
        return new Digest(algorithm, hash);
    }

    /// <summary>Finishes <paramref name="hash"/> (from <c>DigestAlgorithm.CreateHash</c>) as the digest of what it was fed, and resets it.</summary>
    public static Digest FromHash(IncrementalHash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (!DigestAlgorithms.TryFrom(hash.AlgorithmName, out var algorithm))
        {
            throw new ArgumentException($"{hash.AlgorithmName} is not a digest algorithm", nameof(hash));
        }
        Span<byte> bytes = stackalloc byte[MaxHashSize];
        var written = hash.GetHashAndReset(bytes);
        return new Digest(algorithm.Value, bytes[..written]);
    }

    /// <summary>The SHA-256 digest of <paramref name="content"/>: the algorithm a digest is computed with when nothing names another.</summary>
    public static Digest Compute(ReadOnlySpan<byte> content) => Compute(DigestAlgorithm.Sha256, content);

    public static Digest Compute(DigestAlgorithm algorithm, ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[MaxHashSize];
        var written = CryptographicOperations.HashData(algorithm.HashName, content, hash);
        return new Digest(algorithm, hash[..written]);
    }

    /// <summary>The digest of everything <paramref name="content"/> reads from its position on.</summary>
    public static Digest Compute(DigestAlgorithm algorithm, Stream content)
    {
        Span<byte> hash = stackalloc byte[MaxHashSize];
        var written = CryptographicOperations.HashData(algorithm.HashName, content, hash);
        return new Digest(algorithm, hash[..written]);
    }

    public static async Task<Digest> ComputeAsync(DigestAlgorithm algorithm, Stream content, CancellationToken cancellationToken)
    {
        var hash = new byte[algorithm.HashSize];
        await CryptographicOperations.HashDataAsync(algorithm.HashName, content, hash, cancellationToken).ConfigureAwait(false);
        return new Digest(algorithm, hash);
    }

    /// <summary>True when <paramref name="content"/> hashes to this digest by its own algorithm.</summary>
    public bool Matches(ReadOnlySpan<byte> content) => Compute(Algorithm, content) == this;

    /// <summary>
    /// Parses <c>sha256:&lt;hex&gt;</c> or <c>sha512:&lt;hex&gt;</c>. Other algorithms, upper-case hex and hex of the wrong
    /// length are refused, as the spec's canonical form demands.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Digest digest)
    {
        digest = default;
        var algorithm = DigestAlgorithm.Sha256;
        ReadOnlySpan<char> hex;
        // SHA-256 first, without a search for the colon: nearly every digest a node sees is one.
        if (text.StartsWith(Sha256Prefix, StringComparison.Ordinal))
        {
            hex = text[Sha256Prefix.Length..];
        }
        else
        {
            var colon = text.IndexOf(':');
            if (colon < 0 || !DigestAlgorithms.TryParse(text[..colon], out algorithm))
            {
                return false;
            }
            hex = text[(colon + 1)..];
        }
        if (hex.Length != algorithm.HashSize * 2 || hex.ContainsAnyExcept(LowerHex))
        {
            return false;
        }
        Span<byte> hash = stackalloc byte[MaxHashSize];
        if (Convert.FromHexString(hex, hash, out _, out var written) != OperationStatus.Done)
        {
            return false;
        }
        digest = new Digest(algorithm, hash[..written]);
        return true;
    }

    public static Digest Parse(string text) =>
        TryParse(text, out var digest) ? digest : throw new FormatException($"'{text}' is not a digest ({Forms})");

    /// <summary>
    /// True for a well-formed digest of an algorithm the image spec knows but the cache does not store: sha384, which the
    /// distribution registry accepts. A lookup of one is a miss, where a malformed digest is an error.
    /// </summary>
    public static bool IsOfUnstoredAlgorithm(ReadOnlySpan<char> text) =>
        text.StartsWith(Sha384Prefix, StringComparison.Ordinal)
        && text.Length == Sha384Prefix.Length + Sha384HexLength
        && !text[Sha384Prefix.Length..].ContainsAnyExcept(LowerHex);

    /// <summary>True when the text names a digest at all (<c>algorithm:encoded</c>), even one this cache does not store.</summary>
    public static bool LooksLikeDigest(ReadOnlySpan<char> text) => text.Contains(':');

    public bool Equals(Digest other) =>
        Algorithm == other.Algorithm && ((ReadOnlySpan<byte>)_hash).SequenceEqual(other._hash);

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Digest other && Equals(other);

    // Hash bytes are uniformly distributed already.
    public override int GetHashCode() => MemoryMarshal.Read<int>(_hash);

    public override string ToString()
    {
        var name = Algorithm.Name;
        return string.Create(name.Length + 1 + HashSize * 2, this, static (text, digest) =>
        {
            var name = digest.Algorithm.Name;
            name.CopyTo(text);
            text[name.Length] = ':';
            Convert.TryToHexStringLower(digest.Hash(), text[(name.Length + 1)..], out _);
        });
    }

    public static bool operator ==(Digest left, Digest right) => left.Equals(right);

    public static bool operator !=(Digest left, Digest right) => !left.Equals(right);

    [UnscopedRef]
    private ReadOnlySpan<byte> Hash() => ((ReadOnlySpan<byte>)_hash)[..HashSize];

    [InlineArray(MaxHashSize)]
    private struct HashBytes
    {
        private byte _first;
    }
}
