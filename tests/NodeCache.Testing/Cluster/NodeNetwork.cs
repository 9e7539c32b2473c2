using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// A network of machines on this one: a bridge, and a network namespace per machine joined to it by a veth pair, in a
/// /24 of 198.18.0.0/15 (set aside for network benchmarks) chosen at random per run, with no default route, so nothing
/// leaves the machine. The bridge's host side is <c>.1</c>, so servers in this process (the fake Kubernetes API) are
/// reachable from every namespace. Every name starts with <see cref="Family"/> and the run's tag and stays within
/// Linux's 15 characters: bridge <c>ncl&lt;tag&gt;br</c>, namespace <c>ncl&lt;tag&gt;-&lt;n&gt;</c>, veth ends
/// <c>ncl&lt;tag&gt;h&lt;n&gt;</c> (host) and <c>ncl&lt;tag&gt;n&lt;n&gt;</c>, where n is the machine's last address byte.
/// Disposing deletes them all by name; leftovers of killed runs are swept when the next network is created.
/// </summary>
public sealed class NodeNetwork : IAsyncDisposable
{
    public const string Family = "ncl";

    private const int FirstMachine = 2;
    private const int LastMachine = 249;

    private readonly NetworkOwner _owner;
    private readonly List<NetworkNamespace> _namespaces = [];
    private readonly List<IPAddress> _hostAddresses = [];
    private int _nextMachine = FirstMachine;
    private int _nextHostAddress = 250;

    private NodeNetwork(NetworkOwner owner, string subnet)
    {
        _owner = owner;
        Subnet = subnet;
        HostAddress = IPAddress.Parse(subnet + ".1");
    }

    public string Tag => _owner.Tag;

    /// <summary>The first three bytes of the run's /24, e.g. <c>198.19.37</c>.</summary>
    public string Subnet { get; }

    public string Bridge => $"{Family}{Tag}br";

    /// <summary>The bridge's address: this process, as every namespace reaches it.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>Whether the kernel has <c>sch_netem</c>, so links get their delay and not only their rate.</summary>
    public bool DelaysSupported { get; private set; }

    public IReadOnlyList<NetworkNamespace> Namespaces
    {
        get
        {
            lock (_namespaces)
            {
                return [.. _namespaces];
            }
        }
    }

    /// <summary>Sweeps leftovers of killed runs, claims a tag and a free /24, and creates the bridge. Needs root.</summary>
    public static async Task<NodeNetwork> CreateAsync()
    {
        RequiredTools.RequireRoot("a network of namespaces");
        await StaleNetworkSweep.RunAsync();
        var used = UsedSubnets(await NetworkCommand.RunAsync("ip", "-o", "-4", "addr", "show"));
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var index = RandomNumberGenerator.GetInt32(512);
            var subnet = string.Create(CultureInfo.InvariantCulture, $"198.{18 + (index / 256)}.{index % 256}");
            var owner = NetworkOwner.OfThisProcess(RandomTag(), subnet);
            if (used.Contains(subnet) || !owner.TryClaim())
            {
                continue;
            }
            var network = new NodeNetwork(owner, subnet);
            try
            {
                await NetworkCommand.RunAsync("ip", "link", "add", network.Bridge, "type", "bridge");
                await NetworkCommand.RunAsync("ip", "addr", "add", $"{network.HostAddress}/24", "dev", network.Bridge);
                await NetworkCommand.RunAsync("ip", "link", "set", network.Bridge, "up");
                network.DelaysSupported = await NetworkCommand.TryRunAsync("tc", "qdisc", "add", "dev", network.Bridge, "root", "netem", "delay", "1ms") is null;
                if (network.DelaysSupported)
                {
                    await NetworkCommand.RunAsync("tc", "qdisc", "del", "dev", network.Bridge, "root");
                }
                return network;
            }
            catch
            {
                await network.DisposeAsync();
                throw;
            }
        }
        throw new InvalidOperationException("no free /24 in 198.18.0.0/15 after 20 attempts");
    }

    /// <summary>A new machine: its namespace with loopback up, and a veth pair to the bridge carrying the next free address.</summary>
    public async Task<NetworkNamespace> AddNamespaceAsync(string role)
    {
        int number;
        lock (_namespaces)
        {
            if (_nextMachine > LastMachine)
            {
                throw new InvalidOperationException($"the /24 has no room for more than {LastMachine - FirstMachine + 1} machines");
            }
            number = _nextMachine++;
        }
        var machine = new NetworkNamespace(
            this,
            role,
            $"{Family}{Tag}-{number}",
            IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"{Subnet}.{number}")),
            $"{Family}{Tag}h{number}",
            $"{Family}{Tag}n{number}");
        lock (_namespaces)
        {
            _namespaces.Add(machine);
        }
        await NetworkCommand.RunAsync("ip", "netns", "add", machine.Name);
        await NetworkCommand.RunAsync("ip", "link", "add", machine.HostLink, "type", "veth", "peer", "name", machine.Link);
        await NetworkCommand.RunAsync("ip", "link", "set", machine.Link, "netns", machine.Name);
        await NetworkCommand.RunAsync("ip", "link", "set", machine.HostLink, "master", Bridge, "up");
        await NetworkCommand.RunAsync("ip", "-n", machine.Name, "addr", "add", $"{machine.Address}/24", "dev", machine.Link);
        await NetworkCommand.RunAsync("ip", "-n", machine.Name, "link", "set", machine.Link, "up");
        await NetworkCommand.RunAsync("ip", "-n", machine.Name, "link", "set", "lo", "up");
        return machine;
    }

    /// <summary>
    /// One more address of this process on the bridge (from .250 up), for an in-process server that stands in for a
    /// machine, such as a proxy advertised in a node's place.
    /// </summary>
    public async Task<IPAddress> AddHostAddressAsync()
    {
        IPAddress address;
        lock (_hostAddresses)
        {
            address = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"{Subnet}.{_nextHostAddress++}"));
            _hostAddresses.Add(address);
        }
        await NetworkCommand.RunAsync("ip", "addr", "add", $"{address}/24", "dev", Bridge);
        return address;
    }

    /// <summary>Deletes one machine: the processes still in it, its namespace and its link.</summary>
    public async Task RemoveAsync(NetworkNamespace machine)
    {
        lock (_namespaces)
        {
            _namespaces.Remove(machine);
        }
        var failures = await DeleteAsync(machine);
        if (failures.Count > 0)
        {
            throw new InvalidOperationException(string.Join('\n', failures));
        }
    }

    /// <summary>Deletes every namespace, link and the bridge by name, then releases the tag; reports what it could not delete.</summary>
    public async ValueTask DisposeAsync()
    {
        var failures = new List<string>();
        foreach (var machine in Namespaces)
        {
            failures.AddRange(await DeleteAsync(machine));
        }
        lock (_namespaces)
        {
            _namespaces.Clear();
        }
        if (await NetworkCommand.TryRunAsync("ip", "link", "delete", Bridge) is { } failure && LinkExists(Bridge))
        {
            failures.Add(failure);
        }
        if (failures.Count > 0)
        {
            // The tag stays claimed by this (soon dead) process, so the next run's sweep retries what failed here.
            throw new InvalidOperationException($"the network {Tag} was not fully removed:\n{string.Join('\n', failures)}");
        }
        _owner.Release();
    }

    internal static bool LinkExists(string name) => Directory.Exists($"/sys/class/net/{name}");

    private static async Task<List<string>> DeleteAsync(NetworkNamespace machine)
    {
        var failures = new List<string>();
        if (File.Exists($"/run/netns/{machine.Name}"))
        {
            await StaleNetworkSweep.KillProcessesInAsync(machine.Name);
        }
        if (LinkExists(machine.HostLink) && await NetworkCommand.TryRunAsync("ip", "link", "delete", machine.HostLink) is { } link && LinkExists(machine.HostLink))
        {
            failures.Add(link);
        }
        if (File.Exists($"/run/netns/{machine.Name}") && await NetworkCommand.TryRunAsync("ip", "netns", "delete", machine.Name) is { } @namespace)
        {
            failures.Add(@namespace);
        }
        return failures;
    }

    private static HashSet<string> UsedSubnets(string addresses)
    {
        var subnets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in addresses.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = line.IndexOf(" inet ", StringComparison.Ordinal);
            if (at >= 0)
            {
                var address = line[(at + 6)..].Split('/')[0];
                subnets.Add(address[..address.LastIndexOf('.')]);
            }
        }
        foreach (var owner in NetworkOwner.All())
        {
            subnets.Add(owner.Subnet);
        }
        return subnets;
    }

    private static string RandomTag()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return string.Create(4, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }
}
