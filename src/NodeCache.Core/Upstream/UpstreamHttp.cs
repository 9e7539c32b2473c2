using System.Net;

namespace NodeCache.Upstream;

/// <summary>The one HttpClient all upstream requests share, set up for a registry mirror.</summary>
internal static class UpstreamHttp
{
    /// <summary>Pooled connections are renewed this often so that DNS changes (registry failover, storage endpoints) are seen.</summary>
    private static readonly TimeSpan PooledConnectionLifetime = TimeSpan.FromMinutes(5);

    public static HttpClient Create(RegistryClientOptions options, CaBundle? bundle)
    {
        var handler = new SocketsHttpHandler
        {
            // Redirects are followed by RegistryClient, which decides where Authorization may go.
            AllowAutoRedirect = false,
            // Blob bytes must be exactly those the digest names.
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = PooledConnectionLifetime,
            // Many layers of many pods download at once; queueing them behind a connection cap would only add latency.
            MaxConnectionsPerServer = int.MaxValue,
            // Registries are stateless to clients; a cookie jar shared by every upstream could only leak between them.
            UseCookies = false,
        };
        if (bundle is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                bundle.Validate(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2, chain, errors);
        }
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = options.ResponseTimeout };
        client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", options.UserAgent);
        return client;
    }
}
