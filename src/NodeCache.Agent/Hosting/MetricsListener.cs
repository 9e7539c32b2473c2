using NodeCache.Agent.Configuration;

namespace NodeCache.Agent.Hosting;

/// <summary>
/// An optional listener for Prometheus: <c>/metrics</c> and the probes on an address other pods can reach (the node's
/// IP), while the registry API stays on loopback. Anything else asked on it is a 404.
/// </summary>
internal static class MetricsListener
{
    private static readonly string[] Paths = ["/metrics", "/healthz", "/readyz"];

    public static void AddMetricsListener(this WebApplicationBuilder builder, AgentOptions options)
    {
        if (options.MetricsListen is { } listen)
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(ListenAddress.Parse(listen)));
        }
    }

    /// <summary>Must come before the registry API is mapped, so that it never answers on the metrics address.</summary>
    public static void UseMetricsListener(this WebApplication app, AgentOptions options)
    {
        if (options.MetricsListen is not { } listen)
        {
            return;
        }
        var endpoint = ListenAddress.Parse(listen);
        app.UseWhen(
            context => context.Connection.LocalPort == endpoint.Port && ListenAddress.Matches(endpoint, context.Connection.LocalIpAddress)
                && !Paths.Contains(context.Request.Path.Value, StringComparer.Ordinal),
            branch => branch.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
    }
}
