using System.Security.Cryptography;
using System.Text;
using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class DigestTests
{
    private const string HelloDigest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    // `printf hello | sha512sum`
    private const string HelloSha512 =
        "sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043";

    [Fact]
    public void Digest_of_content_is_the_sha256_of_its_bytes()
    {
        Assert.Equal(HelloDigest, Digest.Compute(Encoding.ASCII.GetBytes("hello")).ToString());
    }

    [Fact]
    public void Digest_of_content_by_sha512_is_the_sha512_of_its_bytes()
    {
        var digest = Digest.Compute(DigestAlgorithm.Sha512, Encoding.ASCII.GetBytes("hello"));

        Assert.Equal(HelloSha512, digest.ToString());
        Assert.Equal(DigestAlgorithm.Sha512, digest.Algorithm);
        Assert.Equal(64, digest.HashSize);
        Assert.True(digest.Matches(Encoding.ASCII.GetBytes("hello")));
        Assert.False(digest.Matches(Encoding.ASCII.GetBytes("hellO")));
    }

    [Theory]
    [InlineData(HelloDigest)]
    [InlineData(HelloSha512)]
    public void Digest_round_trips_through_text_and_hash_bytes(string text)
    {
        var digest = Digest.Parse(text);
        Span<byte> hash = stackalloc byte[Digest.MaxHashSize];
        digest.CopyHashTo(hash);

        Assert.Equal(digest, Digest.FromHash(digest.Algorithm, hash[..digest.HashSize]));
        Assert.Equal(text, digest.ToString());
        Assert.Equal(text[(text.IndexOf(':') + 1)..], digest.Hex);
        Assert.Equal(text[..text.IndexOf(':')], digest.Algorithm.Name);
        Assert.Equal(digest.GetHashCode(), Digest.Parse(text).GetHashCode());
    }

    [Theory]
    [InlineData("sha256")]
    [InlineData("sha512")]
    public void A_hash_fed_as_content_arrives_finishes_as_the_digest_of_the_whole(string name)
    {
        Assert.True(DigestAlgorithms.TryParse(name, out var algorithm));
        using var hash = algorithm.CreateHash();
        hash.AppendData("hel"u8);
        hash.AppendData("lo"u8);

        Assert.Equal(Digest.Compute(algorithm, "hello"u8), Digest.FromHash(hash));
        Assert.Equal(Digest.Compute(algorithm, "hello"u8), Digest.Compute(algorithm, new MemoryStream("hello"u8.ToArray())));
    }

    [Fact]
    public void The_same_bytes_by_two_algorithms_are_two_digests()
    {
        // A SHA-512 whose first 32 bytes equal a SHA-256 (here: built so) is still another digest.
        var sha256 = Digest.Compute("hello"u8);
        Span<byte> wide = stackalloc byte[64];
        sha256.CopyHashTo(wide);
        var sha512 = Digest.FromHash(DigestAlgorithm.Sha512, wide);

        Assert.NotEqual(sha256, sha512);
        Assert.NotEqual(sha256, Digest.Compute(DigestAlgorithm.Sha512, "hello"u8));
    }

    [Fact]
    public void A_hash_of_the_wrong_size_or_algorithm_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Digest.FromHash(new byte[64]));
        Assert.Throws<ArgumentException>(() => Digest.FromHash(DigestAlgorithm.Sha512, new byte[32]));
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        Assert.Throws<ArgumentException>(() => Digest.FromHash(md5));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:")]
    [InlineData("sha512:")]
    [InlineData(":")]
    [InlineData("sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98244")]
    [InlineData("sha512:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec04")]
    [InlineData("sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec0433")]
    [InlineData("sha512:9B71D224BD62F3785D96D46AD3EA3D73319BFBC2890CAADAE2DFF72519673CA72323C3D99BA5C11D7C7ACC6E14B8C5DA0C4663475C2E5C3ADEF46F73BCDEC043")]
    [InlineData("sha256:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043")]
    [InlineData("SHA512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043")]
    [InlineData("sha384:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98242cf24dba5fb0a30e26e83b2ac5b9e29e")]
    [InlineData("md5:5d41402abc4b2a76b9719d911017c592")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982g")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982A")]
    [InlineData("sha256:\u0663cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("sha256:../../../../etc/passwd")]
    [InlineData("sha512:../../../../etc/passwd")]
    [InlineData("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData(" sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    public void Digest_refuses_anything_but_canonical_sha256_and_sha512(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
        var refused = Assert.Throws<FormatException>(() => Digest.Parse(text));
        Assert.Contains(Digest.Forms, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Digests_of_different_content_differ()
    {
        Assert.NotEqual(Digest.Compute([1]), Digest.Compute([2]));
        Assert.True(Digest.Compute([1]) != Digest.Compute([2]));
        Assert.NotEqual(Digest.Compute(DigestAlgorithm.Sha512, [1]), Digest.Compute(DigestAlgorithm.Sha512, [2]));
    }
}
