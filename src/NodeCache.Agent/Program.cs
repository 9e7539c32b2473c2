using NodeCache.Agent.Configuration;
using NodeCache.Agent.Control;
using NodeCache.Agent.Hosting;
using NodeCache.Agent.Kubernetes;
using NodeCache.Agent.Peers;
using NodeCache.Agent.Registry;
using NodeCache.Fill;
using NodeCache.Mirror;
using NodeCache.Peers;
using NodeCache.Pulls;
using NodeCache.Store.Blobs;
using NodeCache.Store.Index;
using NodeCache.Telemetry;
using NodeCache.Upstream;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

if (AgentSettings.WantsHelp(args))
{
    Console.WriteLine(AgentSettings.Usage);
    return 0;
}

AgentOptions options;
UpstreamRules rules;
CredentialStore credentials;
k8s.IKubernetes? kubernetes;
try
{
    options = AgentSettings.Load(args, Environment.GetEnvironmentVariable);
    rules = options.Upstreams.Count == 0 ? UpstreamRules.Direct : UpstreamRules.Parse(options.Upstreams);
    credentials = CredentialStore.Parse(options.Credentials);
    kubernetes = KubernetesConnection.Create(options, Environment.GetEnvironmentVariable);
}
catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"nodecache-agent: {ex.Message}");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
    console.UseUtcTimestamp = true;
});
builder.Logging.SetMinimumLevel(Enum.Parse<LogLevel>(options.LogLevel));
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
// Hosting logs nothing above Information, but while any of its levels is on it starts an Activity and a log scope for
// every request, among the largest costs of a hit in a profile under the harness's manifest load
// (perf/RESULTS.md#manifest-hits-from-memory).
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    foreach (var listen in options.Listen)
    {
        // Validated when the settings were read.
        kestrel.Listen(ListenAddress.Parse(listen), endpoint => endpoint.Use(next => connection =>
            endpoint.ApplicationServices.GetRequiredService<SendfileConnection>().HandleAsync(connection, next)));
    }
});

var services = builder.Services;
services.AddSingleton(options);
services.AddSingleton(rules);
services.AddSingleton(_ => new CacheLayout(options.CacheDir));
services.AddSingleton(sp => CacheIndex.Open(sp.GetRequiredService<CacheLayout>().IndexDirectory, sp.GetRequiredService<ILogger<CacheIndex>>()));
services.AddSingleton(sp => sp.GetRequiredService<CacheIndex>().Blobs);
services.AddSingleton(sp => sp.GetRequiredService<CacheIndex>().Tags);
services.AddSingleton(TimeProvider.System);
services.AddSingleton(sp => new MirrorOptions
{
    TagTtl = options.TagTtl,
    ManifestRevalidation = options.ManifestRevalidate,
    DenialsPath = Path.Combine(sp.GetRequiredService<CacheLayout>().Root, "denials.json"),
});
services.AddSingleton<PolicyMetrics>();
services.AddSingleton<MirrorMetrics>();
services.AddSingleton(sp => new BlobStore(sp.GetRequiredService<CacheLayout>(), sp.GetRequiredService<BlobIndex>(), TimeProvider.System, sp.GetRequiredService<ILogger<BlobStore>>()));
services.AddSingleton(sp => new RegistryClient(
    new RegistryClientOptions { ConnectTimeout = options.ConnectTimeout, CaBundlePath = options.CaFile },
    credentials,
    sp.GetRequiredService<ILogger<RegistryClient>>()));
services.AddSingleton(sp => new BlobFills(
    sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<CacheLayout>(), sp.GetRequiredService<RegistryClient>(), sp.GetRequiredService<MirrorMetrics>(),
    sp.GetRequiredService<ILogger<BlobFills>>(), sp.GetRequiredService<ShutdownDrain>().Token, sp.GetRequiredService<DiskSpace>(), sp.GetService<IFillRouting>()));
services.AddSingleton(sp => new ManifestResolver(
    sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<TagIndex>(), sp.GetRequiredService<RegistryClient>(), sp.GetRequiredService<MirrorMetrics>(),
    sp.GetRequiredService<PolicyMetrics>(), sp.GetRequiredService<MirrorOptions>(), TimeProvider.System, sp.GetRequiredService<ILogger<ManifestResolver>>(),
    sp.GetService<IManifestLenders>()));
services.AddSingleton(sp => new ListingResolver(
    sp.GetRequiredService<RegistryClient>(), sp.GetRequiredService<MirrorMetrics>(), sp.GetRequiredService<MirrorOptions>(), TimeProvider.System,
    sp.GetRequiredService<ILogger<ListingResolver>>()));
services.AddSingleton<ManifestEndpoint>();
services.AddSingleton<ListingEndpoint>();
services.AddSingleton<RegistryAdmission>();
services.AddSingleton<BlobResponder>();
services.AddSingleton<RegistryEndpoint>();
services.AddSingleton<SendfileConnection>();
services.AddHostedService<IndexCheckpoints>();
services.AddPrefetch(options, kubernetes);
services.AddImagePrewarms(options, kubernetes);
builder.AddControlApi(options);
builder.AddMetricsListener(options);
try
{
    builder.AddPeering(options, kubernetes);
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"nodecache-agent: {ex.Message}");
    return 2;
}
services.AddCacheHealth(options);
services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("nodecache-agent")).WithMetrics(metrics => metrics.AddMeter(MirrorMetrics.MeterName).AddPrometheusExporter());

var app = builder.Build();
var logger = app.Services.GetRequiredService<ILogger<Program>>();
try
{
    // Opened before the listeners so that a cache that cannot be read stops the agent with one clear line.
    var index = app.Services.GetRequiredService<CacheIndex>();
    var removed = app.Services.RecoverCache().TempFilesRemoved;
    logger.LogInformation(
        "Cache {CacheDir}: {Blobs} blobs indexed, {Removed} unfinished fills removed; size limit {CacheSize}",
        options.CacheDir, index.Blobs.Count, removed, options.CacheSize);
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"nodecache-agent: cannot open the cache in '{options.CacheDir}': {ex.Message}");
    return 1;
}
logger.LogInformation("Upstreams: {Upstreams}", options.Upstreams.Count == 0 ? "every registry direct from https://<ns>" : string.Join("; ", options.Upstreams));
// The series whose labels are known now start at 0, so that the first pull after a start shows in Prometheus' rates; the
// exporter must listen first, or the zeros are lost.
_ = app.Services.GetRequiredService<MeterProvider>();
string[] configuredRegistries = [.. rules.Registries.Where(r => r != UpstreamRules.DefaultRegistry)];
app.Services.GetRequiredService<MirrorMetrics>().ExportKnownSeries(configuredRegistries);
app.Services.GetRequiredService<PullMetrics>().ExportKnownSeries(configuredRegistries);
// Registered with peering on only: without it no peer series is exported at all.
app.Services.GetService<PeerMetrics>()?.ExportKnownSeries();

app.UseMetricsListener(options);
app.UsePeerListener(options);
var registry = app.Services.GetRequiredService<RegistryEndpoint>();
app.Map("/v2", v2 => v2.Run(registry.HandleAsync));
// After the registry's branch, so its requests skip endpoint routing, which only the endpoints below need.
app.UseRouting();
app.MapPrometheusScrapingEndpoint("/metrics");
app.MapControlApi();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapGet("/readyz", () => Results.Text("ready"));

await app.RunAsync().ConfigureAwait(false);
return 0;
