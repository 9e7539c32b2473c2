using System.Globalization;
using System.Text.RegularExpressions;
using NodeCache.Oci;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Peers;

/// <summary>
/// A member whose node goes silent (every packet to and from it dropped at its own firewall) while its endpoint stays
/// ready, as a cut-off node's does until the node controller notices: an owner that never answers a connection, one cut
/// off behind the connection kept alive from the last blob, and one cut off part way through a body. The asking agent
/// gives it up within a bound its containerd can count on, the blob arrives with the right bytes, and a body is continued
/// from the byte already reached, never from zero.
/// </summary>
[Collection(PeerClusterFixture.Collection)]
public sealed class PeerSilenceTests(PeerClusterFixture fixture, ITestOutputHelper output)
{
    /// <summary>What an unreachable owner may cost a pull: from the request to the owner to the request to the next origin.</summary>
    private static readonly TimeSpan GiveUpBound = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task An_owner_that_drops_every_packet_is_given_up_within_300_ms_and_Harbor_is_asked_at_once()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        var (image, layer, silent, asking) = await PushAsync("silent-owner", [.. Enumerable.Repeat(128 * OciImageBuilder.KiB, 12)], timeout.Token);
        await WarmUpAsync(image, asking, silent, timeout.Token);
        var mark = await fixture.HarborMarkAsync();
        fixture.Disturbed();

        await ReadWhileCutOffAsync(silent, asking, image, layer.Digest, "no connection within", timeout.Token);

        // The next origin answered it: Harbor, asked by the asking agent itself.
        var gets = PeerClusterFixture.AgentBlobGets(await fixture.HarborRequestsSinceAsync(mark)).Where(r => r.IsBlob(layer.Digest)).ToList();
        Assert.Contains(gets, r => r.RemoteAddress == asking.Machine.Address.ToString() && r.Status == 200);
    }

    [Fact]
    public async Task An_owner_cut_off_behind_a_kept_alive_connection_is_given_up_as_soon_as_one_that_never_answered()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        var (image, layer, owner, asking) = await PushAsync("kept-alive", [128 * OciImageBuilder.KiB], timeout.Token);
        // A blob Harbor does not have, of the same owner: the owner's 404 keeps its connection open (only a whole blob goes
        // out with Connection: close, by sendfile), as a redirect does, and as every answer does over TLS.
        var missing = Enumerable.Range(0, 1000).Select(i => Digest.Compute(BitConverter.GetBytes(i))).First(d => fixture.Ranked(d)[0] == owner);
        fixture.Disturbed();
        Assert.Equal(404, (await PeerClusterFixture.ReadBlobAsync(asking, image.Repository, missing, timeout.Token)).Status);

        // Well within the keepalive's first probe (after the stall timeout's 2 s idle): the connection is still in the pool,
        // and the request goes over it to an owner that no longer acknowledges anything.
        await ReadWhileCutOffAsync(owner, asking, image, layer.Digest, "unacknowledged", timeout.Token);
    }

    [Fact]
    public async Task A_member_cut_off_mid_body_is_left_at_the_stall_timeout_and_Harbor_sends_only_the_rest()
    {
        using var timeout = new CancellationTokenSource(PeerClusterFixture.TestLimit);
        // About 1.7 s on a node's link: long enough to cut the owner off part way.
        var (image, layer, owner, asking) = await PushAsync("cut-mid-body", [16 * OciImageBuilder.MiB], timeout.Token);
        // The owner holds the blob already and sends it at its link's pace: the only pause in its answer is the cut.
        Assert.Equal(layer.Digest, (await PeerClusterFixture.ReadBlobAsync(owner, image.Repository, layer.Digest, timeout.Token)).Received);
        var stalledBefore = await PeerClusterFixture.SumMetricAsync([asking], PeerMetrics.Fallbacks, ("reason", "stalled"));
        var mark = await fixture.HarborMarkAsync();
        fixture.Disturbed();

        var before = asking.Machine.Traffic();
        var sent = DateTimeOffset.UtcNow;
        var reading = PeerClusterFixture.ReadBlobAsync(asking, image.Repository, layer.Digest, timeout.Token);
        DateTimeOffset cut;
        BlobRead read;
        try
        {
            while (asking.Machine.Traffic().Since(before).ToMachine < layer.Size / 4)
            {
                Assert.False(reading.IsCompleted, "the read ended before a quarter of the blob reached the asking node");
                await Task.Delay(5, timeout.Token);
            }
            await owner.Machine.BlackholeAsync();
            cut = DateTimeOffset.UtcNow;
            read = await reading;
        }
        finally
        {
            await owner.Machine.HealAsync();
        }

        Assert.Equal(200, read.Status);
        Assert.Equal(layer.Size, read.Length);
        Assert.Equal(layer.Digest, read.Received);
        await PeerClusterFixture.AssertMetricReachesAsync([asking], PeerMetrics.Fallbacks, stalledBefore + 1, "the stall counted", ("reason", "stalled"));
        var left = await LeftAsync(asking, owner, "Stalled", sent, timeout.Token);
        output.WriteLine($"{asking} left {owner} {(left.At - cut).TotalMilliseconds:F0} ms after the cut: {left.Detail}; the blob arrived after {read.Total.TotalMilliseconds:F0} ms");
        // The stall timeout (2 s) counts from the last bytes, which were already on their way when the cut came (the link's
        // queue holds 50 ms); the rest of the second allowed is this loaded machine's scheduling of the agent.
        Assert.True(left.At - cut < TimeSpan.FromSeconds(3), $"{asking} left {owner} only {(left.At - cut).TotalMilliseconds:F0} ms after the cut");
        // Harbor sent the asking node the rest of the blob from where the owner's bytes had got, and never the whole blob.
        var gets = PeerClusterFixture.AgentBlobGets(await fixture.HarborRequestsSinceAsync(mark))
            .Where(r => r.IsBlob(layer.Digest) && r.RemoteAddress == asking.Machine.Address.ToString())
            .ToList();
        var rest = Assert.Single(gets);
        Assert.Equal(206, rest.Status);
        Assert.InRange(rest.Written, 1, layer.Size * 3 / 4);
    }

    /// <summary>
    /// A new image in Harbor, once the cluster has settled, with the owner of its first layer and the member that asks for
    /// it: the one that comes next after the owner, whose next origin is then Harbor itself.
    /// </summary>
    private async Task<(BuiltImage Image, BlobFile Layer, ClusterNode Owner, ClusterNode Asking)> PushAsync(string name, IReadOnlyList<long> layers, CancellationToken cancellationToken)
    {
        await fixture.SettleAsync(cancellationToken);
        var image = await fixture.PushImageAsync(name, layers: layers);
        var ranked = fixture.Ranked(image.Layers[0].Digest);
        return (image, image.Layers[0], ranked[0], ranked[1]);
    }

    // A cold read through another owner first: the asking agent's first peer fill after a start also compiles its paths.
    private async Task WarmUpAsync(BuiltImage image, ClusterNode asking, ClusterNode silent, CancellationToken cancellationToken)
    {
        var warmUp = image.Layers.First(l => fixture.Ranked(l.Digest)[0] is var owner && owner != asking && owner != silent);
        Assert.Equal(warmUp.Digest, (await PeerClusterFixture.ReadBlobAsync(asking, image.Repository, warmUp.Digest, cancellationToken)).Received);
    }

    /// <summary>
    /// Cuts <paramref name="owner"/> off, reads the blob through <paramref name="asking"/> (healing the owner afterwards, also
    /// when the read fails), and checks what its containerd would see and what the agent recorded: the blob whole, one
    /// fallback counted as unreachable, and the log line of its departure naming <paramref name="why"/>, within the bound.
    /// </summary>
    private async Task ReadWhileCutOffAsync(ClusterNode owner, ClusterNode asking, BuiltImage image, Digest digest, string why, CancellationToken cancellationToken)
    {
        var fallbacksBefore = await PeerClusterFixture.SumMetricAsync([asking], PeerMetrics.Fallbacks, ("reason", "unreachable"));
        await owner.Machine.BlackholeAsync();
        var sent = DateTimeOffset.UtcNow;
        BlobRead read;
        try
        {
            read = await PeerClusterFixture.ReadBlobAsync(asking, image.Repository, digest, cancellationToken);
        }
        finally
        {
            await owner.Machine.HealAsync();
        }

        Assert.Equal(200, read.Status);
        Assert.Equal(digest, read.Received);
        await PeerClusterFixture.AssertMetricReachesAsync([asking], PeerMetrics.Fallbacks, fallbacksBefore + 1, "the fallback counted", ("reason", "unreachable"));
        var left = await LeftAsync(asking, owner, "Unreachable", sent, cancellationToken);
        output.WriteLine($"{asking} left {owner}: {left.Detail}; {(left.At - sent).TotalMilliseconds:F0} ms after the request was sent; the blob arrived after {read.Total.TotalMilliseconds:F0} ms");
        Assert.Contains(why, left.Detail, StringComparison.Ordinal);
        // The agent's own record of the step: the time from its request to the owner to its verdict is in the detail it logs
        // as it moves on, and the log line's time is when it asks the next origin. The test's own clock adds the agent's
        // handling of the request up to the fill's first origin, a millisecond when the agent is not starved of the CPU.
        Assert.True(left.GivenUpAfter <= GiveUpBound, $"the agent gave the owner up {left.GivenUpAfter.TotalMilliseconds:F0} ms after asking it");
        Assert.True(left.At - sent <= GiveUpBound, $"the agent moved to the next origin {(left.At - sent).TotalMilliseconds:F0} ms after the request");
    }

    // The asking agent's log line saying it left the member for the next origin, for a reason, after the request was sent.
    private static async Task<Departure> LeftAsync(ClusterNode asking, ClusterNode member, string reason, DateTimeOffset after, CancellationToken cancellationToken)
    {
        var prefix = $"Leaving peer {member.PeerUrl.ToString().TrimEnd('/')} for the next origin: {reason} (";
        var line = (await asking.Agent!.Output.WaitForLineAsync(l => l.At > after && l.Text.Contains(prefix, StringComparison.Ordinal), cancellationToken)).Text;
        var at = DateTimeOffset.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
        var detail = line[(line.IndexOf(prefix, StringComparison.Ordinal) + prefix.Length)..^1];
        var given = Regex.Match(detail, @"given up (\d+) ms after asking");
        return new Departure(at, detail, given.Success ? TimeSpan.FromMilliseconds(int.Parse(given.Groups[1].Value, CultureInfo.InvariantCulture)) : TimeSpan.MaxValue);
    }

    private sealed record Departure(DateTimeOffset At, string Detail, TimeSpan GivenUpAfter);
}
