using System.Text.Json.Nodes;
using NodeCache.Testing.Kubernetes;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// What the endpoint-slice controller keeps on the API server for the DaemonSet's headless Service: one endpoint per
/// agent pod (its node's address, node name and zone), ready while its readiness probe passes, in slices of at most
/// <see cref="EndpointsPerSlice"/> endpoints (100 in a real cluster), each labelled <c>kubernetes.io/service-name</c>.
/// Only slices whose content changed are written, so a watcher sees one MODIFIED event per change, as from the real controller.
/// </summary>
public sealed class DaemonSetEndpoints
{
    private readonly FakeApiServer _api;
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, SliceEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _published = new(StringComparer.Ordinal);

    public DaemonSetEndpoints(FakeApiServer api, string @namespace, string service, string portName, int port, int endpointsPerSlice = 100)
    {
        _api = api;
        Namespace = @namespace;
        Service = service;
        PortName = portName;
        Port = port;
        EndpointsPerSlice = endpointsPerSlice;
        api.Apply(KubernetesObjects.HeadlessService(service, @namespace, service, portName, port));
    }

    public string Namespace { get; }

    public string Service { get; }

    public string PortName { get; }

    public int Port { get; }

    public int EndpointsPerSlice { get; }

    /// <summary><c>NAMESPACE/NAME</c>, as <c>--peers-service</c> takes it.</summary>
    public string ServiceReference => $"{Namespace}/{Service}";

    public IReadOnlyList<SliceEndpoint> Endpoints
    {
        get
        {
            lock (_gate)
            {
                return [.. _endpoints.Values];
            }
        }
    }

    /// <summary>Adds the endpoint of <see cref="SliceEndpoint.NodeName"/>, or replaces it (a change of readiness, say).</summary>
    public void Set(SliceEndpoint endpoint)
    {
        lock (_gate)
        {
            if (_endpoints.TryGetValue(endpoint.NodeName, out var old) && old == endpoint)
            {
                return;
            }
            _endpoints[endpoint.NodeName] = endpoint;
            Publish();
        }
    }

    /// <summary>Removes a node's endpoint, as when its pod is deleted.</summary>
    public void Remove(string nodeName)
    {
        lock (_gate)
        {
            if (_endpoints.Remove(nodeName))
            {
                Publish();
            }
        }
    }

    private void Publish()
    {
        var slices = _endpoints.Values.Chunk(EndpointsPerSlice).ToList();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < slices.Count; i++)
        {
            var name = $"{Service}-{i:D5}";
            wanted.Add(name);
            var slice = KubernetesObjects.EndpointSlice(name, Namespace, Service, PortName, Port, slices[i]);
            var content = slice.ToJsonString();
            if (_published.GetValueOrDefault(name) != content)
            {
                _api.Apply(slice);
                _published[name] = content;
            }
        }
        foreach (var stale in _published.Keys.Where(n => !wanted.Contains(n)).ToList())
        {
            _api.Delete("endpointslices", Namespace, stale);
            _published.Remove(stale);
        }
    }
}
