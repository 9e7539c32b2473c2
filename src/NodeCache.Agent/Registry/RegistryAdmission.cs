using System.Net;
using NodeCache.Access;
using NodeCache.Mirror;
using NodeCache.Pulls;
using NodeCache.Upstream;

namespace NodeCache.Agent.Registry;

/// <summary>
/// The first step of every manifest, blob and listing request: the pull it belongs to, and the private-image check for
/// a repository not known to be servable. A refusal sends containerd to its next host, the registry itself.
/// </summary>
internal sealed class RegistryAdmission(PrivateImagePolicy privateImages, PullTracker pulls)
{
    /// <param name="client">The client's address: containerd opens several connections for one pull, so pulls are grouped by it.</param>
    public async ValueTask<Admission> AdmitAsync(RegistryRequest request, IPAddress? client, CancellationToken cancellationToken)
    {
        // A listing is no part of an image pull: it is checked as the repository's content is, and not tracked.
        var pull = request.Resource is RegistryResource.Manifest or RegistryResource.Blob
            ? pulls.Begin(client?.ToString() ?? "local", request.Route.Registry, request.Repository, request.Reference)
            : default;
        try
        {
            if (privateImages.IsKnownServable(request.Route.Registry, request.Repository))
            {
                return new Admission(pull, null);
            }
            // Privacy is the repository's: a listing is probed as a manifest of it, and a tag that is not there still tells a
            // private repository (401 to an anonymous HEAD) from a public one (404).
            var (kind, reference) = request.Resource switch
            {
                RegistryResource.Blob => (RegistryObject.Blob, request.Reference),
                RegistryResource.Manifest or RegistryResource.Referrers => (RegistryObject.Manifest, request.Reference),
                _ => (RegistryObject.Manifest, "latest"),
            };
            return new Admission(pull, await privateImages.CheckAsync(request.Route, request.Repository, kind, reference, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            pull.Dispose();
            throw;
        }
    }
}

/// <summary>An admitted request's pull, or the refusal to answer with; dispose it when the response is done.</summary>
internal readonly record struct Admission(PullScope Pull, MirrorError? Refusal) : IDisposable
{
    public void Dispose() => Pull.Dispose();
}
