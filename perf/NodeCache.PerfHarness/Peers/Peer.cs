using NodeCache.Oci;

namespace NodeCache.PerfHarness.Peers;

/// <summary>One server the harness measures, and how its registry API URLs are formed.</summary>
/// <param name="Pid">The server's process (nginx's master: its workers are counted under it).</param>
/// <param name="Query">What every request carries: the agent is a mirror and learns the registry from <c>?ns=</c>, as containerd sends it.</param>
internal sealed record Peer(string Name, Uri BaseUri, int Pid, string Query = "")
{
    public const string Agent = "agent";
    public const string NginxStatic = "nginx-static";
    public const string NginxProxyCache = "nginx-proxy-cache";
    public const string RegistryProxy = "registry-proxy";
    public const string Upstream = "upstream";

    public Uri Blob(string repository, Digest digest) => new(BaseUri, $"/v2/{repository}/blobs/{digest}{Query}");

    public Uri Manifest(string repository, string reference) => new(BaseUri, $"/v2/{repository}/manifests/{reference}{Query}");
}
