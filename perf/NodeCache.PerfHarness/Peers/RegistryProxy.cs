using System.Net;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Peers;

/// <summary>The distribution registry in pull-through (proxy) mode, with its own storage, in front of the upstream registry.</summary>
internal sealed class RegistryProxy : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    // Its background store of a 1 GiB blob takes a few seconds here; a minute means it is not happening.
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromMinutes(1);

    private readonly TempFolder _folder;
    private readonly CapturedOutput _output;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly string _storage;
    private ChildProcess? _process;

    private RegistryProxy(TempFolder folder, int port)
    {
        _folder = folder;
        _storage = folder.Combine("storage", create: true);
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        _output = new CapturedOutput(folder.Combine("registry-proxy.log"));
    }

    public Uri BaseUri { get; }

    public int Pid => _process?.Pid ?? 0;

    public static async Task<RegistryProxy> StartAsync(Uri upstream, CancellationToken cancellationToken)
    {
        var port = LoopbackPort.Next();
        var proxy = new RegistryProxy(TempFolder.Create("registry-proxy"), port);
        try
        {
            var config = proxy._folder.Combine("config.yml");
            await File.WriteAllTextAsync(config, Config(port, proxy._storage, upstream), cancellationToken);
            proxy._process = ChildProcess.Start(RequiredTools.DockerRegistry, ["serve", config], proxy._output);
            await proxy.WaitReadyAsync(cancellationToken);
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until the proxy has stored <paramref name="digest"/>. On a miss it streams the blob to the client with one
    /// upstream GET and stores it with a second one in the background, which may end well after the client's response:
    /// its GET belongs to the miss, not to whatever is measured next.
    /// </summary>
    public async Task WaitStoredAsync(Digest digest, CancellationToken cancellationToken)
    {
        var hex = digest.Hex;
        var data = Path.Combine(_storage, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
        var deadline = DateTime.UtcNow + StoreTimeout;
        while (!File.Exists(data))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the registry proxy did not store {digest} within {StoreTimeout}\n{_output.Tail()}");
            }
            await Task.Delay(100, cancellationToken);
        }
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

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process!.HasExited)
            {
                await _process.DrainOutputAsync(TimeSpan.FromSeconds(2));
                throw new InvalidOperationException($"docker-registry (proxy) exited with code {await _process.Exited} while starting\n{_output.Tail()}");
            }
            try
            {
                using var response = await _http.GetAsync(new Uri(BaseUri, "/v2/"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
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
                throw new TimeoutException($"docker-registry (proxy) did not answer GET /v2/ within {StartTimeout}\n{_output.Tail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    // Logs at warn: at info it writes a line per request, which this process would capture on the cores being measured.
    private static string Config(int port, string storage, Uri upstream) => $"""
        version: 0.1
        log:
          level: warn
          formatter: json
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: {storage}
          maintenance:
            uploadpurging:
              enabled: false
        http:
          addr: 127.0.0.1:{port}
          secret: {Guid.NewGuid():N}
        proxy:
          remoteurl: {upstream.ToString().TrimEnd('/')}
        """;
}
