namespace NodeCache.Testing.Kubernetes;

/// <summary>
/// One endpoint of an EndpointSlice as the endpoint-slice controller writes it for a pod: its address, node, zone, the pod
/// it stands for, and its conditions. A pod that passes its readiness probe is ready and serving; one being deleted is
/// terminating (and no longer ready).
/// </summary>
public sealed record SliceEndpoint(string Address, string NodeName, string? Zone, string PodName, bool Ready, bool Terminating = false)
{
    /// <summary>Serving follows readiness whether or not the pod is terminating.</summary>
    public bool Serving => Ready;
}
