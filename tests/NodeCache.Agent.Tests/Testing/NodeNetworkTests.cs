using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.Agent.Tests.Testing;

/// <summary>The simulated cluster's network: machines that reach each other over the bridge, links at their rate, a blackhole, and nothing left behind.</summary>
public sealed class NodeNetworkTests
{
    [Fact]
    public async Task Machines_reach_each_other_over_the_bridge_and_disposal_leaves_no_namespace_link_or_claim()
    {
        var network = await NodeNetwork.CreateAsync();
        string[] names;
        try
        {
            var a = await network.AddNamespaceAsync("a");
            var b = await network.AddNamespaceAsync("b");
            names = [network.Bridge, a.Name, a.HostLink, b.Name, b.HostLink];
            Assert.All(names, n => Assert.InRange(n.Length, 1, 15));
            Assert.StartsWith("198.1", a.Address.ToString(), StringComparison.Ordinal);
            using var listener = Listen(a);

            var (sent, received) = await TransferAsync(b, listener, 64 * 1024);

            Assert.Equal(sent, received);
            // No default route: only the bridge's /24 is reachable from a machine.
            var routes = await ToolRun.RunAsync(RequiredTools.Find("ip"), ["-n", a.Name, "route", "show"], TimeSpan.FromSeconds(10));
            Assert.DoesNotContain("default", routes.Stdout, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(NetworkOwnerFolder, network.Tag)));
        }
        finally
        {
            await network.DisposeAsync();
        }

        var namespaces = (await ToolRun.RunAsync(RequiredTools.Find("ip"), ["netns", "list"], TimeSpan.FromSeconds(10))).Stdout;
        var links = (await ToolRun.RunAsync(RequiredTools.Find("ip"), ["-o", "link", "show"], TimeSpan.FromSeconds(10))).Stdout;
        Assert.DoesNotContain(NodeNetwork.Family + network.Tag, namespaces, StringComparison.Ordinal);
        Assert.DoesNotContain(NodeNetwork.Family + network.Tag, links, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(NetworkOwnerFolder, network.Tag)));
    }

    [Fact]
    public async Task A_shaped_link_carries_no_more_than_its_rate_in_each_direction()
    {
        await using var network = await NodeNetwork.CreateAsync();
        var a = await network.AddNamespaceAsync("a");
        var b = await network.AddNamespaceAsync("b");
        var shape = LinkShape.Megabits(40);
        await a.ShapeAsync(shape);
        using var listener = Listen(a);
        const int size = 4 * 1024 * 1024;
        var before = a.Traffic();

        var clock = Stopwatch.StartNew();
        await TransferAsync(b, listener, size);
        var elapsed = clock.Elapsed;

        // A lower bound only: a loaded machine can make the transfer slower, never faster than the link.
        var atRate = TimeSpan.FromSeconds((double)size / shape.BytesPerSecond);
        Assert.True(elapsed > atRate * 0.85, $"{size} bytes crossed a {shape} link in {elapsed}, faster than its rate allows ({atRate})");
        Assert.InRange(a.Traffic().Since(before).ToMachine, size, size * 1.1);
    }

    [Fact]
    public async Task A_blackholed_machine_answers_no_connection_until_it_heals()
    {
        await using var network = await NodeNetwork.CreateAsync();
        var a = await network.AddNamespaceAsync("a");
        var b = await network.AddNamespaceAsync("b");
        using var listener = Listen(a);

        await a.BlackholeAsync();
        var clock = Stopwatch.StartNew();
        var blocked = await Assert.ThrowsAnyAsync<Exception>(() => TransferAsync(b, listener, 1024, TimeSpan.FromSeconds(2)));
        var waited = clock.Elapsed;
        await a.HealAsync();
        var (sent, received) = await TransferAsync(b, listener, 1024);

        // Dropped, not refused: the connection attempt runs into its timeout instead of failing at once.
        Assert.True(waited >= TimeSpan.FromSeconds(1.5), $"the blackholed machine answered after {waited}: {blocked.Message}");
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task Creating_a_network_sweeps_the_namespaces_links_and_processes_of_a_run_whose_owner_died()
    {
        // A run killed mid-way: its claim names a process that no longer exists, and its bridge, namespace and a process inside remain.
        const string tag = "zz00";
        var ip = RequiredTools.Find("ip");
        Directory.CreateDirectory(NetworkOwnerFolder);
        await File.WriteAllTextAsync(Path.Combine(NetworkOwnerFolder, tag), "2147483646 1 198.19.254");
        var bridge = $"{NodeNetwork.Family}{tag}br";
        var machine = $"{NodeNetwork.Family}{tag}-7";
        var hostLink = $"{NodeNetwork.Family}{tag}h7";
        (await ToolRun.RunAsync(ip, ["link", "add", bridge, "type", "bridge"], TimeSpan.FromSeconds(10))).EnsureSucceeded();
        (await ToolRun.RunAsync(ip, ["netns", "add", machine], TimeSpan.FromSeconds(10))).EnsureSucceeded();
        (await ToolRun.RunAsync(ip, ["link", "add", hostLink, "type", "veth", "peer", "name", $"{NodeNetwork.Family}{tag}n7", "netns", machine], TimeSpan.FromSeconds(10))).EnsureSucceeded();
        using var output = new CapturedOutput(null);
        await using var left = ChildProcess.Start(ip, ["netns", "exec", machine, "sleep", "600"], output);

        await using (await NodeNetwork.CreateAsync())
        {
            await left.Exited.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(File.Exists($"/run/netns/{machine}"));
            Assert.False(Directory.Exists($"/sys/class/net/{bridge}"));
            Assert.False(Directory.Exists($"/sys/class/net/{hostLink}"));
            Assert.False(File.Exists(Path.Combine(NetworkOwnerFolder, tag)));
        }
    }

    private const string NetworkOwnerFolder = "/tmp/nct/networks";

    private static Socket Listen(NetworkNamespace machine)
    {
        var listener = machine.OpenSocket();
        listener.Bind(new IPEndPoint(machine.Address, 7000));
        listener.Listen();
        return listener;
    }

    // Connects from inside `from` to the listener, sends `size` bytes and returns what was sent and what the listener's side read.
    private static async Task<(long Sent, long Received)> TransferAsync(NetworkNamespace from, Socket listener, int size, TimeSpan? connectTimeout = null)
    {
        using var client = from.OpenSocket();
        using (var timeout = new CancellationTokenSource(connectTimeout ?? TimeSpan.FromSeconds(10)))
        {
            await client.ConnectAsync(listener.LocalEndPoint!, timeout.Token);
        }
        using var server = await listener.AcceptAsync();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await server.ReceiveAsync(buffer)) > 0)
            {
                total += read;
            }
            return total;
        });
        var chunk = new byte[64 * 1024];
        Random.Shared.NextBytes(chunk);
        long sent = 0;
        while (sent < size)
        {
            sent += await client.SendAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - sent)));
        }
        client.Shutdown(SocketShutdown.Send);
        return (sent, await reading);
    }
}
