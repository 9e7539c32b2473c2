using System.Globalization;
using System.Net;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// One machine of a <see cref="NodeNetwork"/>: a network namespace with its own loopback, and a veth pair whose host end
/// (<see cref="HostLink"/>) is a port of the bridge. The host end's egress is the traffic towards the machine and the
/// namespace end's egress the traffic from it, so shaping both gives the machine a link of that speed each way. Processes
/// run inside with <c>ip netns exec</c>; this process reaches the machine's loopback with <see cref="CreateHandler"/>.
/// </summary>
public sealed class NetworkNamespace
{
    private readonly NodeNetwork _network;

    internal NetworkNamespace(NodeNetwork network, string role, string name, IPAddress address, string hostLink, string link)
    {
        _network = network;
        Role = role;
        Name = name;
        Address = address;
        HostLink = hostLink;
        Link = link;
    }

    /// <summary>What the machine is in the scenario (a node's name, "harbor"), for messages.</summary>
    public string Role { get; }

    public string Name { get; }

    public IPAddress Address { get; }

    /// <summary>The veth end on the bridge, in this process's namespace.</summary>
    public string HostLink { get; }

    /// <summary>The veth end inside the namespace.</summary>
    public string Link { get; }

    /// <summary>The shape of the traffic towards the machine; null while unshaped.</summary>
    public LinkShape? ToMachine { get; private set; }

    /// <summary>The shape of the traffic from the machine; null while unshaped.</summary>
    public LinkShape? FromMachine { get; private set; }

    /// <summary>Whether the shapes' delays are in effect (the kernel has netem), or the link has its rates alone.</summary>
    public bool DelayApplied => _network.DelaysSupported && (ToMachine?.Delay > TimeSpan.Zero || FromMachine?.Delay > TimeSpan.Zero);

    public bool Blackholed { get; private set; }

    /// <summary>The command line that runs <paramref name="fileName"/> inside the namespace: <c>ip netns exec NAME FILE ARGS</c>.</summary>
    public IReadOnlyList<string> Command(string fileName, IEnumerable<string> arguments) =>
        [RequiredTools.Find("ip"), "netns", "exec", Name, fileName, .. arguments];

    /// <summary>A TCP socket of the namespace (to bind and listen, or to connect from the machine).</summary>
    public System.Net.Sockets.Socket OpenSocket() => NamespaceSocket.Open(Name);

    /// <summary>An HTTP handler whose connections start inside the namespace: <c>http://127.0.0.1:...</c> is the machine's own loopback.</summary>
    public SocketsHttpHandler CreateHandler(TimeSpan? connectTimeout = null) => NamespaceSocket.Handler(Name, connectTimeout);

    /// <summary>Shapes the machine's link: <paramref name="toMachine"/> towards it, <paramref name="fromMachine"/> (the same unless given) from it. A later call replaces both.</summary>
    public async Task ShapeAsync(LinkShape toMachine, LinkShape? fromMachine = null)
    {
        var delay = _network.DelaysSupported;
        fromMachine ??= toMachine;
        // The host end's egress reaches the machine; the namespace end's egress leaves it.
        await NetworkCommand.RunAsync("tc", toMachine.QdiscArguments(HostLink, delay));
        await NetworkCommand.RunAsync("tc", ["-n", Name, .. fromMachine.QdiscArguments(Link, delay)]);
        ToMachine = toMachine;
        FromMachine = fromMachine;
    }

    /// <summary>
    /// Drops every packet to and from the machine at its own firewall (<c>iptables DROP</c> on its link, in its namespace),
    /// as a host that hangs or a partition does: connections to it get no answer at all, not a refusal.
    /// </summary>
    public async Task BlackholeAsync()
    {
        await NetworkCommand.RunAsync("ip", "netns", "exec", Name, "iptables", "-I", "INPUT", "-i", Link, "-j", "DROP");
        await NetworkCommand.RunAsync("ip", "netns", "exec", Name, "iptables", "-I", "OUTPUT", "-o", Link, "-j", "DROP");
        Blackholed = true;
    }

    /// <summary>Ends <see cref="BlackholeAsync"/>.</summary>
    public async Task HealAsync()
    {
        await NetworkCommand.RunAsync("ip", "netns", "exec", Name, "iptables", "-D", "INPUT", "-i", Link, "-j", "DROP");
        await NetworkCommand.RunAsync("ip", "netns", "exec", Name, "iptables", "-D", "OUTPUT", "-o", Link, "-j", "DROP");
        Blackholed = false;
    }

    /// <summary>Bytes that crossed the link so far, read from the host end's counters.</summary>
    public LinkTraffic Traffic() => new(Counter("tx_bytes"), Counter("rx_bytes"));

    public override string ToString() => $"{Role} ({Name}, {Address})";

    private long Counter(string name) =>
        long.Parse(File.ReadAllText($"/sys/class/net/{HostLink}/statistics/{name}").Trim(), CultureInfo.InvariantCulture);
}

/// <summary>Bytes a machine's link carried: towards the machine, and from it (frames, headers included).</summary>
public readonly record struct LinkTraffic(long ToMachine, long FromMachine)
{
    public LinkTraffic Since(LinkTraffic before) => new(ToMachine - before.ToMachine, FromMachine - before.FromMachine);
}
