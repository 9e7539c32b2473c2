using System.Net;
using System.Net.Sockets;
using System.Text;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Fill;

/// <summary>A fill belongs to the cache, not to the request that started it: clients going away do not waste the download.</summary>
public sealed class BlobFillDisconnectTests
{
    private const long HoldOffset = 8 * OciImageBuilder.MiB;

    [Fact]
    public async Task A_client_that_disconnects_mid_fill_does_not_cancel_the_fill()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/abandoned", [64 * OciImageBuilder.MiB], seed: 401, throughProxy: true, cancellationToken);
        var proxy = scenario.Proxy!;
        var layer = scenario.Layer;
        // The upstream body stops part way until released: the fill cannot end while the client is there, nor before
        // the agent has dealt with the client's leaving.
        var held = proxy.HoldAt(HoldOffset);

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, scenario.Agent.BaseUri.Port, cancellationToken);
            var stream = client.GetStream();
            var path = scenario.BlobUri(layer.Digest).PathAndQuery;
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {scenario.Agent.HostPort}\r\n\r\n"), cancellationToken);
            await held.WaitAsync(cancellationToken);
            var (status, bodyBytes) = await ReadHeadAndSomeBodyAsync(stream, 16 * 1024, cancellationToken);
            Assert.Equal(200, status);
            Assert.True(bodyBytes > 0);

            // Leaves: the kernel sends FIN as it would for a killed containerd. The agent's answer is to end the
            // response and close its side, which this read sees as the end of the stream (or a reset).
            client.Client.Shutdown(SocketShutdown.Send);
            await DrainUntilClosedAsync(stream, cancellationToken);
        }

        Assert.False(scenario.IsCached(layer.Digest), "the fill could not have ended: its upstream body is held");
        Assert.Single(scenario.TempFiles());
        proxy.Release();
        await scenario.WaitUntilAsync(() => scenario.IsCached(layer.Digest), $"blob {layer.Digest} is in the cache", cancellationToken);
        // The file is in place a moment before the fill has finished committing (BlobFillCommitRaceTests covers that
        // moment): wait for the fill to be over, so the GET below is a plain cache hit.
        await scenario.WaitForMetricAsync("nodecache_fills_in_flight", AgentMetrics.Labels(), value => value == 0, cancellationToken);

        await scenario.WarmAsync(layer, cancellationToken);

        Assert.Equal(1, proxy.CountBlobGets(layer.Digest));
        Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(layer.Digest, cancellationToken: cancellationToken));
        Assert.Empty(scenario.TempFiles());
        var metrics = await scenario.MetricsAsync(cancellationToken);
        Assert.Equal(0, new[] { "digest_mismatch", "size_mismatch", "upstream", "disk" }.Sum(metrics.FillFailures));
    }

    /// <summary>Reads the response head and at least <paramref name="wanted"/> body bytes; returns the status and how many body bytes came.</summary>
    private static async Task<(int Status, long BodyBytes)> ReadHeadAndSomeBodyAsync(NetworkStream stream, int wanted, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var buffer = new byte[8192];
        var headEnd = -1;
        while (headEnd < 0 || received.Count - headEnd < wanted)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            Assert.True(read > 0, $"the agent closed the connection after {received.Count} bytes: {Encoding.ASCII.GetString([.. received])}");
            received.AddRange(buffer.AsSpan(0, read));
            if (headEnd < 0)
            {
                var at = Encoding.ASCII.GetString([.. received]).IndexOf("\r\n\r\n", StringComparison.Ordinal);
                headEnd = at < 0 ? -1 : at + 4;
            }
        }
        var statusLine = Encoding.ASCII.GetString([.. received]).Split("\r\n")[0];
        return (int.Parse(statusLine.Split(' ')[1]), received.Count - headEnd);
    }

    private static async Task DrainUntilClosedAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            // Bounded: the agent has at most the held part of the blob to send.
            while (await stream.ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        catch (IOException)
        {
            // Reset rather than closed: the agent dropped the connection all the same.
        }
    }
}
