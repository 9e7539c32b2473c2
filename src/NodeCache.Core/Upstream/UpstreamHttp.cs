using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace NodeCache.Upstream;

/// <summary>The HttpClient all upstream requests share, set up for a registry mirror; peer requests get one of the same make.</summary>
internal static class UpstreamHttp
{
    /// <summary>Pooled connections are renewed this often so that DNS changes (registry failover, storage endpoints) are seen.</summary>
    private static readonly TimeSpan PooledConnectionLifetime = TimeSpan.FromMinutes(5);

    public static HttpClient Create(RegistryClientOptions options, CaBundle? bundle) =>
        Create(options.ConnectTimeout, options.ResponseTimeout, options.UserAgent,
            bundle is null ? null : (certificate, chain, errors) => bundle.Validate(certificate, chain, errors));

    /// <summary>A client for blobs and manifests: no redirects followed, no decompression, no connection cap, no cookies.</summary>
    /// <param name="validate">TLS validation instead of the system's; null trusts what the system trusts.</param>
    /// <param name="useProxy">False for peers on the node network, which an HTTP proxy for the outside must not carry.</param>
    /// <param name="connect">Opens the connections instead of the handler's own way; null connects as the handler does.</param>
    public static HttpClient Create(
        TimeSpan connectTimeout, TimeSpan timeout, string userAgent, Func<X509Certificate2?, X509Chain?, SslPolicyErrors, bool>? validate, bool useProxy = true,
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect = null)
    {
        var handler = new SocketsHttpHandler
        {
            // Redirects are followed by the caller, which decides where Authorization may go, and to whom.
            AllowAutoRedirect = false,
            // Blob bytes must be exactly those the digest names.
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = connectTimeout,
            PooledConnectionLifetime = PooledConnectionLifetime,
            // Many layers of many pods download at once; queueing them behind a connection cap would only add latency.
            MaxConnectionsPerServer = int.MaxValue,
            // Registries are stateless to clients; a cookie jar shared by every upstream could only leak between them.
            UseCookies = false,
            UseProxy = useProxy,
        };
        if (connect is not null)
        {
            handler.ConnectCallback = connect;
        }
        if (validate is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => validate(certificate as X509Certificate2, chain, errors);
        }
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = timeout };
        client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", userAgent);
        return client;
    }
}
