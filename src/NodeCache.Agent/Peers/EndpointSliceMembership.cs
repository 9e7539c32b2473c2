using System.Net;
using k8s;
using k8s.Models;
using NodeCache.Agent.Kubernetes;
using NodeCache.Peers;

namespace NodeCache.Agent.Peers;

/// <summary>
/// Membership from the EndpointSlices of the DaemonSet's headless Service (<c>--peers-service NAMESPACE/NAME</c>): list,
/// then watch (relisting after a <c>410 Gone</c>); each endpoint is an agent, ready when Kubernetes says so and not
/// terminating, with its node's name and zone. The peer port is the slice's port named <c>peer</c>, or its only port.
/// </summary>
internal sealed class EndpointSliceMembership(IKubernetes client, string service, string scheme, PeerMembership membership, ILoggerFactory loggers)
    : BackgroundService, IWatchTarget<V1EndpointSlice>
{
    /// <summary>The label Kubernetes puts on every EndpointSlice of a Service.</summary>
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    private readonly Dictionary<string, IReadOnlyList<PeerMember>> _slices = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly ILogger _logger = loggers.CreateLogger<EndpointSliceMembership>();

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var parts = service.Split('/');
        var (@namespace, name) = (parts[0], parts[1]);
        var selector = $"{ServiceNameLabel}={name}";
        var watch = new ResourceWatch<V1EndpointSlice, V1EndpointSliceList>(
            $"endpointslices of {service}",
            cancel => client.DiscoveryV1.ListNamespacedEndpointSliceAsync(@namespace, labelSelector: selector, cancellationToken: cancel),
            (version, onError, cancel) => client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
                @namespace, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: version, onError: onError, cancellationToken: cancel),
            this,
            loggers.CreateLogger<ResourceWatch<V1EndpointSlice, V1EndpointSliceList>>());
        return watch.RunAsync(stoppingToken);
    }

    public void Resync(IEnumerable<V1EndpointSlice> items)
    {
        lock (_gate)
        {
            _slices.Clear();
            foreach (var slice in items)
            {
                _slices[slice.Metadata.Name] = Members(slice);
            }
            Publish();
        }
    }

    public void Upsert(V1EndpointSlice item)
    {
        lock (_gate)
        {
            _slices[item.Metadata.Name] = Members(item);
            Publish();
        }
    }

    public void Delete(V1EndpointSlice item)
    {
        lock (_gate)
        {
            _slices.Remove(item.Metadata.Name);
            Publish();
        }
    }

    private void Publish()
    {
        var before = membership.Members;
        membership.Replace(_slices.Values.SelectMany(m => m));
        var after = membership.Members;
        if (!before.SequenceEqual(after))
        {
            _logger.LogInformation("Peers: {Ready} ready of {Count} ({Members})", after.Count(m => m.Ready), after.Count,
                string.Join(", ", after.Select(m => $"{m}{(m.Ready ? "" : " not ready")}")));
        }
    }

    private List<PeerMember> Members(V1EndpointSlice slice)
    {
        var ports = slice.Ports ?? [];
        var port = (ports.FirstOrDefault(p => p.Name == "peer") ?? (ports.Count == 1 ? ports[0] : null))?.Port;
        if (port is null)
        {
            _logger.LogWarning("EndpointSlice {Slice} has no port named peer: its endpoints are not peers", slice.Metadata.Name);
            return [];
        }
        var members = new List<PeerMember>();
        foreach (var endpoint in slice.Endpoints ?? [])
        {
            if (endpoint.Addresses is not { Count: > 0 } addresses || !IPAddress.TryParse(addresses[0], out var address))
            {
                continue;
            }
            // Kubernetes: an unknown ready condition means ready; a terminating endpoint takes no new work.
            var ready = endpoint.Conditions?.Ready != false && endpoint.Conditions?.Terminating != true;
            var url = $"{scheme}://{new IPEndPoint(address, port.Value)}";
            members.Add(PeerMember.Parse(url, endpoint.NodeName, endpoint.Zone, ready));
        }
        return members;
    }
}
