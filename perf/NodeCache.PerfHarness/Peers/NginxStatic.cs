namespace NodeCache.PerfHarness.Peers;

/// <summary>
/// The ceiling for warm blobs: nginx serving the upstream registry's own blob files with sendfile, under the registry
/// API's paths, so the same client requests the same bytes from it as from the caches.
/// </summary>
internal static class NginxStatic
{
    /// <param name="registryStorage">The upstream registry's filesystem root; blobs live at docker/registry/v2/blobs/sha256/&lt;2 hex&gt;/&lt;hex&gt;/data.</param>
    public static Task<NginxServer> StartAsync(string registryStorage, CancellationToken cancellationToken) =>
        NginxServer.StartAsync(
            Peer.NginxStatic,
            _ => "",
            // nginx needs regexes that hold braces quoted.
            $$"""
                    location ~ "^/v2/.+/blobs/sha256:([0-9a-f]{2})([0-9a-f]{62})$" {
                        alias {{registryStorage}}/docker/registry/v2/blobs/sha256/$1/$1$2/data;
                    }
            """,
            cancellationToken);
}
