using System.Text.Json;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Peers;

/// <summary><c>nodecache peers</c> as an operator runs it on a node, against a real agent sharing with others over loopback.</summary>
public sealed class PeersCliTests
{
    [Fact]
    public async Task Peers_shows_each_member_its_state_the_bytes_received_from_it_and_a_dead_owner_avoided_with_its_error()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var cluster = await PeerCluster.StartAsync(
            "team/peers", [2 * OciImageBuilder.MiB], seed: 1441, [PeerCluster.Member.Running, PeerCluster.Member.Running, PeerCluster.Member.Dead],
            deadOwnerOf: image => image.Layers[0].Digest, cancellationToken: cancellationToken);
        var layer = cluster.Image.Layers[0];
        // The dead member owns the layer; the agent ranked last asks it, then the one after it, which fetches and streams it.
        var ranked = cluster.Ranked(layer.Digest);
        var (dead, serving, asking) = (ranked[0], ranked[1], ranked[2]);
        var read = await cluster.Download(asking, layer.Digest, cancellationToken).Completion;
        Assert.True(read.Complete && read.BodyDigest == layer.Digest, $"{read}\n{cluster.Logs()}");

        var json = await NodeCacheCli.RunAsync(asking.Agent, "peers", "-o", "json");
        var text = await NodeCacheCli.RunAsync(asking.Agent, "peers");

        Assert.True(json.Succeeded, json.Stderr);
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(asking.PeerUrl, root.GetProperty("self").GetString());
        var peers = root.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("url").GetString()!);
        Assert.Equal(3, peers.Count);
        Assert.Equal("self", peers[asking.PeerUrl].GetProperty("state").GetString());
        Assert.Equal("ready", peers[serving.PeerUrl].GetProperty("state").GetString());
        Assert.Equal(layer.Size, peers[serving.PeerUrl].GetProperty("receivedBytes").GetInt64());
        Assert.Equal("avoided", peers[dead.PeerUrl].GetProperty("state").GetString());
        Assert.Equal(1, peers[dead.PeerUrl].GetProperty("failures").GetInt64());
        Assert.Equal("unreachable", Assert.Single(peers[dead.PeerUrl].GetProperty("recentErrors").EnumerateArray()).GetProperty("reason").GetString());
        Assert.True(text.Succeeded, text.Stderr);
        var deadRow = Assert.Single(text.Stdout.Split('\n'), line => line.Contains(dead.PeerUrl, StringComparison.Ordinal) && line.Contains("avoided until", StringComparison.Ordinal));
        Assert.Contains("0 B", deadRow, StringComparison.Ordinal);
        Assert.Contains($"{dead.PeerUrl} unreachable:", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peers_on_an_agent_without_peering_says_so_in_one_line_with_its_own_exit_code()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var agent = await AgentProcess.StartAsync([], cancellationToken: timeout.Token);

        var run = await NodeCacheCli.RunAsync(agent, "peers");

        Assert.Equal(6, run.ExitCode);
        Assert.Equal("nodecache: peering is off on this agent: it runs without --peer-listen", run.Stderr.Trim());
        Assert.Empty(run.Stdout);
    }
}
