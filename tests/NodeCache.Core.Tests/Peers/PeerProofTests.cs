using NodeCache.Peers;

namespace NodeCache.Core.Tests.Peers;

/// <summary>The proof of the cluster's secret binds method, path and query, time and requester, and never carries the secret.</summary>
public sealed class PeerProofTests
{
    private const string Secret = "0123456789abcdef-cluster";
    private const string Path = "/v2/team/app/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000?ns=harbor.example";
    private const string Requester = "http://10.0.0.2:5051";

    private readonly PeerProof _proof = new(PeerSecret.FromText(Secret), TimeProvider.System);

    [Fact]
    public void A_proof_made_with_the_secret_is_valid_for_exactly_what_it_was_made_for()
    {
        var (peer, at, proof) = _proof.Sign("GET", Path, Requester);

        Assert.Equal(PeerProofCheck.Valid, _proof.Verify("GET", Path, peer, at, proof));
        Assert.Equal(PeerProofCheck.Wrong, _proof.Verify("HEAD", Path, peer, at, proof));
        Assert.Equal(PeerProofCheck.Wrong, _proof.Verify("GET", Path + "&direct=1", peer, at, proof));
        Assert.Equal(PeerProofCheck.Wrong, _proof.Verify("GET", Path, "http://10.0.0.3:5051", at, proof));
        Assert.Equal(PeerProofCheck.Missing, _proof.Verify("GET", Path, peer, at, null));
        Assert.DoesNotContain(Secret, peer + at + proof, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_secret_proves_nothing()
    {
        var stranger = new PeerProof(PeerSecret.FromText("another secret of 16 bytes or more"), TimeProvider.System);
        var (peer, at, proof) = stranger.Sign("GET", Path, Requester);

        Assert.Equal(PeerProofCheck.Wrong, _proof.Verify("GET", Path, peer, at, proof));
    }

    [Fact]
    public void A_proof_older_or_newer_than_the_allowed_skew_has_expired()
    {
        var past = new PeerProof(PeerSecret.FromText(Secret), new Shifted(-PeerProof.MaxSkew - TimeSpan.FromSeconds(5)));
        var future = new PeerProof(PeerSecret.FromText(Secret), new Shifted(PeerProof.MaxSkew + TimeSpan.FromSeconds(5)));
        var near = new PeerProof(PeerSecret.FromText(Secret), new Shifted(-PeerProof.MaxSkew + TimeSpan.FromSeconds(5)));

        foreach (var (signer, expected) in new[] { (past, PeerProofCheck.Expired), (future, PeerProofCheck.Expired), (near, PeerProofCheck.Valid) })
        {
            var (peer, at, proof) = signer.Sign("GET", Path, Requester);
            Assert.Equal(expected, _proof.Verify("GET", Path, peer, at, proof));
        }
    }

    [Fact]
    public void A_secret_shorter_than_16_bytes_is_refused()
    {
        var error = Assert.Throws<FormatException>(() => PeerSecret.FromText("short"));
        Assert.Contains("16 bytes", error.Message, StringComparison.Ordinal);
    }

    private sealed class Shifted(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + by;
    }
}
