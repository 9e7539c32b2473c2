using System.Text;
using NodeCache.Oci;

namespace NodeCache.Core.Tests.Oci;

public sealed class DigestTests
{
    private const string HelloDigest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    [Fact]
    public void Digest_of_content_is_the_sha256_of_its_bytes()
    {
        Assert.Equal(HelloDigest, Digest.Compute(Encoding.ASCII.GetBytes("hello")).ToString());
    }

    [Fact]
    public void Digest_round_trips_through_text_and_hash_bytes()
    {
        var digest = Digest.Parse(HelloDigest);
        Span<byte> hash = stackalloc byte[Digest.HashSize];
        digest.CopyHashTo(hash);

        Assert.Equal(digest, Digest.FromHash(hash));
        Assert.Equal(HelloDigest[Digest.Prefix.Length..], digest.Hex);
        Assert.Equal(digest.GetHashCode(), Digest.Parse(HelloDigest).GetHashCode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:")]
    [InlineData("sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98244")]
    [InlineData("sha512:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982g")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982A")]
    [InlineData("sha256:\u0663cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("sha256:../../../../etc/passwd")]
    [InlineData("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    public void Digest_refuses_anything_but_canonical_sha256(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Digest.Parse(text));
    }

    [Fact]
    public void Digests_of_different_content_differ()
    {
        Assert.NotEqual(Digest.Compute([1]), Digest.Compute([2]));
        Assert.True(Digest.Compute([1]) != Digest.Compute([2]));
    }
}
