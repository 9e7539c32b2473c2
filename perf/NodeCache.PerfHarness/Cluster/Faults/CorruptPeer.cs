using System.Net;
using NodeCache.Testing;
using NodeCache.Testing.Cluster;

namespace NodeCache.PerfHarness.Cluster.Faults;

/// <summary>
/// One peer serves corrupt bytes for the whole rollout: a proxy in front of its peer port flips a byte in the middle of
/// every blob it sends, and the cluster knows the peer by the proxy's address (its endpoint and its <c>--peer-url</c>).
/// Every node must notice, keep nothing wrong, and get the blob elsewhere.
/// </summary>
internal sealed class CorruptPeer : RolloutFault
{
    private ClusterNode? _liar;
    private FaultProxy? _proxy;

    public override string Name => "one peer serves corrupt bytes";

    /// <summary>Blob responses the proxy corrupted, the evidence that the fault was exercised.</summary>
    public int Corrupted { get; private set; }

    public override async Task PrepareAsync(SimulatedCluster cluster, IReadOnlyList<ClusterNode> members, CancellationToken cancellationToken)
    {
        // Not node 1: its containerd would be the only client, and the point is the peers it serves.
        _liar = members[^1];
        Struck = _liar;
        var address = await cluster.Network.AddHostAddressAsync();
        _proxy = await FaultProxy.StartAsync(_liar.PeerUrl, new IPEndPoint(address, SimulatedCluster.PeerPort), cancellationToken);
        _proxy.Mode = FaultMode.Corrupt;
        _liar.AdvertisedAddress = address;
    }

    public override Task<IReadOnlyList<NodeOutcome>> StrikeAsync(RolloutScene scene, Action<string> progress, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<NodeOutcome>>([]);

    public override async Task RestoreAsync(SimulatedCluster cluster)
    {
        if (_proxy is not null)
        {
            Corrupted = _proxy.Requests().Count(r => r.Method == "GET" && r.BlobDigest is not null && r.Status is 200 or 206);
            await _proxy.DisposeAsync();
            _proxy = null;
        }
        if (_liar is not null)
        {
            _liar.AdvertisedAddress = _liar.Machine.Address;
            _liar = null;
        }
    }
}
