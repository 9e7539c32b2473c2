using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using k8s;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using NodeCache.Agent.Configuration;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Peers;

namespace NodeCache.Agent.Peers;

/// <summary>
/// Wires sharing between the agents when <c>--peer-listen</c> is given: the peer API on its own HTTP/1.1 endpoint (TLS
/// with <c>--peer-tls-cert</c>), the membership (a static list, or the EndpointSlices of <c>--peers-service</c>),
/// ownership, health, the client, and the fill routing that puts the owner before the upstream.
/// </summary>
internal static class PeerServices
{
    /// <exception cref="FormatException">The secret, a certificate or the Kubernetes API the options need cannot be had.</exception>
    public static void AddPeering(this WebApplicationBuilder builder, AgentOptions options, IKubernetes? kubernetes)
    {
        if (options.PeerListen is not { } listen)
        {
            return;
        }
        var secret = PeerSecret.Load(options.PeerTokenFile!);
        var certificate = options.PeerTlsCert is { } cert ? LoadCertificate(cert, options.PeerTlsKey!) : null;
        if (options.PeersService is not null && kubernetes is null)
        {
            throw new FormatException("--peers-service needs the Kubernetes API: --kubeconfig, or run in-cluster");
        }
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(ListenAddress.Parse(listen), endpoint =>
        {
            // Blob bodies to other agents: one stream per connection, as Kestrel serves HTTP/1.1 and a peer opens several.
            endpoint.Protocols = HttpProtocols.Http1;
            if (certificate is not null)
            {
                endpoint.UseHttps(certificate);
            }
        }));
        var peerOptions = new PeerOptions
        {
            ZoneLocal = options.PeerZoneLocal,
            UploadsPerBlob = options.PeerUploadsPerBlob,
            Uploads = options.PeerUploads,
            ConnectTimeout = options.PeerConnectTimeout,
            StallTimeout = options.PeerStallTimeout,
            MinBytesPerSecond = options.PeerMinRate,
            TlsCaFile = options.PeerTlsCa,
        };
        var services = builder.Services;
        services.AddSingleton(peerOptions);
        services.AddSingleton(new PeerMembership(options.PeerUrl!, options.NodeName));
        services.AddSingleton(sp => new PeerHealth(TimeProvider.System));
        services.AddSingleton(sp => new PeerOwnership(sp.GetRequiredService<PeerMembership>(), sp.GetRequiredService<PeerHealth>(), options.PeerZoneLocal));
        services.AddSingleton(sp => new PeerProof(secret, TimeProvider.System));
        services.AddSingleton(sp => new PeerClient(peerOptions, sp.GetRequiredService<PeerProof>(), options.PeerUrl!, sp.GetRequiredService<ILogger<PeerClient>>()));
        services.AddSingleton(sp => Metrics(sp));
        services.AddSingleton(sp => new PeerUploads(peerOptions.UploadsPerBlob, peerOptions.Uploads, sp.GetRequiredService<PeerHealth>(), sp.GetRequiredService<PeerMetrics>(), TimeProvider.System));
        services.AddSingleton<IFillRouting>(sp => new PeerRouting(
            sp.GetRequiredService<PeerOwnership>(), sp.GetRequiredService<PeerMembership>(), sp.GetRequiredService<PeerClient>(), sp.GetRequiredService<PeerHealth>(),
            sp.GetRequiredService<PeerMetrics>(), peerOptions, sp.GetRequiredService<ILogger<PeerRouting>>()));
        services.AddSingleton<IManifestLenders>(sp => new PeerManifests(
            sp.GetRequiredService<PeerClient>(), sp.GetRequiredService<PeerMembership>(), sp.GetRequiredService<PeerMetrics>(), peerOptions,
            sp.GetRequiredService<ILogger<PeerManifests>>()));
        services.AddSingleton<PeerEndpoint>();
        services.AddSingleton<PeerReport>();
        if (options.PeersService is { } service)
        {
            services.AddHostedService(sp => new EndpointSliceMembership(
                kubernetes!, service, certificate is null ? "http" : "https", sp.GetRequiredService<PeerMembership>(), sp.GetRequiredService<ILoggerFactory>()));
        }
        else
        {
            services.AddHostedService(sp => new StaticMembership(options.Peers, sp.GetRequiredService<PeerMembership>(), sp.GetRequiredService<ILogger<StaticMembership>>()));
        }
    }

    /// <summary>Must come before the registry API is mapped: on the peer address only the peer API answers, and nothing else does anywhere.</summary>
    public static void UsePeerListener(this WebApplication app, AgentOptions options)
    {
        if (options.PeerListen is not { } listen)
        {
            return;
        }
        var endpoint = ListenAddress.Parse(listen);
        var peers = app.Services.GetRequiredService<PeerEndpoint>();
        app.UseWhen(context => context.Connection.LocalPort == endpoint.Port && ListenAddress.Matches(endpoint, context.Connection.LocalIpAddress),
            branch => branch.Run(peers.HandleAsync));
    }

    private static PeerMetrics Metrics(IServiceProvider services)
    {
        var metrics = new PeerMetrics(services.GetService<IMeterFactory>());
        var membership = services.GetRequiredService<PeerMembership>();
        var health = services.GetRequiredService<PeerHealth>();
        metrics.ObserveMembers(() =>
        {
            var members = membership.Members;
            var avoided = members.Count(m => m.Ready && !membership.IsSelf(m) && health.IsAvoided(m.Id));
            var ready = members.Count(m => m.Ready) - avoided;
            return
            [
                new Measurement<long>(ready, new KeyValuePair<string, object?>("state", "ready")),
                new Measurement<long>(members.Count(m => !m.Ready), new KeyValuePair<string, object?>("state", "not_ready")),
                new Measurement<long>(avoided, new KeyValuePair<string, object?>("state", "avoided")),
            ];
        });
        return metrics;
    }

    private static X509Certificate2 LoadCertificate(string certificate, string key)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new FormatException($"--peer-tls-cert '{certificate}' with --peer-tls-key '{key}': {ex.Message}");
        }
    }
}
