using System.Net;
using NodeCache.Oci;
using NodeCache.Testing.Cluster;

namespace NodeCache.Testing;

/// <summary>
/// The real CNCF distribution registry (<c>docker-registry serve</c>) on 127.0.0.1, with filesystem storage in a
/// temp folder, JSON logs on stderr, deletes enabled, and optionally token auth against a <see cref="TokenServer"/>.
/// Requests it completed are read back from its log, which is what upstream-traffic assertions count. On a machine of a
/// <see cref="NodeNetwork"/> it runs inside that namespace on the machine's address, port <see cref="MachinePort"/>: Harbor
/// behind its own link.
/// </summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    // Requests whose URI carries this are the fixture's own (readiness polls, log sentinels) and are not reported.
    private const string SentinelMarker = "nodecache-log-sentinel";

    /// <summary>The port of a registry on a machine's address.</summary>
    public const int MachinePort = 5000;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly TempFolder _folder;
    private readonly TokenServer? _tokens;
    private readonly TestCertificateAuthority? _tls;
    private readonly Uri? _proxyOf;
    private readonly NetworkNamespace? _machine;
    private readonly string _configPath;
    private readonly HttpClient _http;
    private readonly List<RegistryRequest> _requests = [];
    private readonly CapturedOutput _output;
    private ChildProcess _process = null!;
    private int _parsedLines;

    private RegistryProcess(TempFolder folder, TokenServer? tokens, TestCertificateAuthority? tls, Uri? proxyOf, int port, NetworkNamespace? machine)
    {
        _folder = folder;
        _tokens = tokens;
        _tls = tls;
        _proxyOf = proxyOf;
        _machine = machine;
        _http = new HttpClient(CreateHandler()) { Timeout = TimeSpan.FromSeconds(10) };
        HostPort = $"{machine?.Address ?? IPAddress.Loopback}:{port}";
        BaseUri = new Uri($"{(tls is null ? "http" : "https")}://{HostPort}/");
        StorageDirectory = folder.Combine("storage", create: true);
        LogPath = folder.Combine("registry.log");
        _configPath = folder.Combine("config.yml");
        _output = new CapturedOutput(LogPath);
        File.WriteAllText(_configPath, Config());
    }

    public Uri BaseUri { get; }

    /// <summary><c>127.0.0.1:port</c> (or the machine's address), as image references and hosts.toml name the registry.</summary>
    public string HostPort { get; }

    public string StorageDirectory { get; }

    public string LogPath { get; }

    public TokenServer? Tokens => _tokens;

    public bool RequiresToken => _tokens is not null;

    public int Pid => _process.Pid;

    /// <param name="tls">Serve HTTPS with this CA's server certificate instead of plain HTTP.</param>
    /// <param name="proxyOf">Run as a pull-through cache of this registry (the peer a user would pick instead of the agent).
    /// It then logs only warnings, so its log costs nothing on measured cores, and its requests are not counted.</param>
    /// <param name="machine">Run inside this machine's namespace, on its address (this process reaches it over the bridge).</param>
    public static async Task<RegistryProcess> StartAsync(
        TokenServer? tokens = null, TestCertificateAuthority? tls = null, Uri? proxyOf = null, NetworkNamespace? machine = null, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = machine is null ? LoopbackPort.Next() : MachinePort;
            var registry = new RegistryProcess(TempFolder.Create(proxyOf is null ? "registry" : "registry-proxy"), tokens, tls, proxyOf, port, machine);
            try
            {
                await registry.LaunchAsync(cancellationToken);
                return registry;
            }
            catch (InvalidOperationException) when (attempt < 3 && registry._output.Text().Contains("address already in use", StringComparison.Ordinal))
            {
                // Another process took the port between LoopbackPort releasing it and the registry binding it.
                await registry.DisposeAsync();
            }
            catch
            {
                await registry.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>
    /// Waits until this registry holds <paramref name="digest"/> in its storage. A registry in proxy mode streams a missed
    /// blob to its client with one upstream GET and stores it with a second one in the background, which may end well
    /// after the client's response: that GET belongs to the miss, not to whatever is measured next.
    /// </summary>
    public async Task WaitStoredAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        var hex = digest.Hex;
        var data = Path.Combine(StorageDirectory, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
        // Storing a 1 GiB blob takes a few seconds here; a minute means it is not happening.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!File.Exists(data))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the registry on {HostPort} did not store {digest} within a minute\n{LogTail()}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>A handler for clients of this registry: one that trusts its CA when it serves HTTPS.</summary>
    public HttpMessageHandler CreateHandler() => _tls?.CreateTrustingHandler() ?? new SocketsHttpHandler();

    /// <summary>The requests logged so far. The log may lag a response by a few milliseconds: call <see cref="FlushLogAsync"/> first to see them all.</summary>
    public IReadOnlyList<RegistryRequest> Requests()
    {
        lock (_requests)
        {
            var lines = _output.Lines(OutputStream.Stderr);
            for (; _parsedLines < lines.Count; _parsedLines++)
            {
                var request = RegistryRequest.FromLogLine(lines[_parsedLines]);
                if (request is not null && !request.Uri.Contains(SentinelMarker, StringComparison.Ordinal))
                {
                    _requests.Add(request);
                }
            }
            return [.. _requests];
        }
    }

    /// <summary>
    /// Sends a marked request and waits until the registry has logged it: every request answered before this call has
    /// been logged by then.
    /// </summary>
    public async Task FlushLogAsync(CancellationToken cancellationToken = default)
    {
        var marker = $"{SentinelMarker}={Guid.NewGuid():N}";
        // Answered 200, or 401 under token auth: the registry logs the URI either way.
        using var response = await _http.GetAsync(new Uri(BaseUri, $"/v2/?{marker}"), cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await _output.WaitForLineAsync(l => l.Stream == OutputStream.Stderr && l.Text.Contains(marker, StringComparison.Ordinal), timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the registry did not log the sentinel request (answered {(int)response.StatusCode})\n{LogTail()}");
        }
    }

    /// <summary>Flushes the log, then returns every request the registry completed.</summary>
    public async Task<IReadOnlyList<RegistryRequest>> RequestsAsync(CancellationToken cancellationToken = default)
    {
        await FlushLogAsync(cancellationToken);
        return Requests();
    }

    /// <summary>Successful GETs of blobs (of one blob, given its digest), after flushing the log. HEADs are not counted.</summary>
    public async Task<int> CountBlobGetsAsync(Digest? digest = null, string? repository = null, CancellationToken cancellationToken = default) =>
        (await RequestsAsync(cancellationToken)).Count(r =>
            r.Route == RegistryRoute.Blob && r.Method == "GET" && r.Succeeded
            && (digest is null || r.Reference == digest.Value.ToString())
            && (repository is null || r.Repository == repository));

    /// <summary>
    /// Successful manifest requests of one tag or digest (any when null), after flushing the log. Without a method,
    /// GETs and HEADs are counted: reads, not the PUTs that pushed the image.
    /// </summary>
    public async Task<int> CountManifestRequestsAsync(string? reference = null, string? method = null, string? repository = null, CancellationToken cancellationToken = default) =>
        (await RequestsAsync(cancellationToken)).Count(r =>
            r.Route == RegistryRoute.Manifest && r.Succeeded
            && (method is null ? r.Method is "GET" or "HEAD" : r.Method == method)
            && (reference is null || r.Reference == reference)
            && (repository is null || r.Repository == repository));

    public string LogTail(int lines = 40) => $"--- registry log tail ({LogPath})\n{_output.Tail(lines)}";

    /// <summary>Stops the registry; its storage and port are kept for <see cref="RestartAsync"/>, as an upstream outage would.</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(10));

    /// <summary>Starts the registry again on the same port with the same storage.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (!_process.HasExited)
        {
            await StopAsync();
        }
        await LaunchAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
        _output.Dispose();
        _http.Dispose();
        _folder.Dispose();
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
        string[] command = [RequiredTools.DockerRegistry, "serve", _configPath];
        if (_machine is not null)
        {
            command = [.. _machine.Command(command[0], command[1..])];
        }
        _process = ChildProcess.Start(command[0], command[1..], _output);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.DrainOutputAsync(TimeSpan.FromSeconds(2));
                throw new InvalidOperationException($"docker-registry exited with code {await _process.Exited} while starting\n{LogTail()}");
            }
            try
            {
                using var response = await _http.GetAsync(new Uri(BaseUri, $"/v2/?{SentinelMarker}=ready"), cancellationToken);
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"docker-registry did not answer GET /v2/ on {HostPort} within {StartTimeout}\n{LogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    private string Config()
    {
        var auth = _tokens is null
            ? ""
            : $"""
              auth:
                token:
                  realm: {_tokens.Realm}
                  service: {_tokens.Service}
                  issuer: {_tokens.Issuer}
                  rootcertbundle: {_tokens.RootCertBundlePath}
              """;
        var tls = _tls is null
            ? ""
            : $"""
                tls:
                  certificate: {_tls.CertificatePath}
                  key: {_tls.KeyPath}
              """;
        var proxy = _proxyOf is null
            ? ""
            : $"""
              proxy:
                remoteurl: {_proxyOf.ToString().TrimEnd('/')}
              """;
        return $"""
            version: 0.1
            log:
              level: {(_proxyOf is null ? "info" : "warn")}
              formatter: json
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {StorageDirectory}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: {HostPort}
              secret: {Guid.NewGuid():N}
            {tls}
            {auth}
            {proxy}
            """;
    }
}
