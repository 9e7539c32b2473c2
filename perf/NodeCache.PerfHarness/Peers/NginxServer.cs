using System.Net.Sockets;
using NodeCache.Testing;

namespace NodeCache.PerfHarness.Peers;

/// <summary>
/// One nginx on 127.0.0.1 with a generated configuration, run in the foreground (<c>daemon off</c>) so its master is our
/// child, stopped by PID. Its pid file, logs and temp folders all live in its own temp folder.
/// </summary>
internal sealed class NginxServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly TempFolder _folder;
    private readonly CapturedOutput _output;
    private readonly int _port;
    private ChildProcess? _process;

    private NginxServer(string name, TempFolder folder, int port)
    {
        Name = name;
        _folder = folder;
        _port = port;
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        _output = new CapturedOutput(folder.Combine("output.log"));
    }

    public string Name { get; }

    public Uri BaseUri { get; }

    public string Folder => _folder.Path;

    public int Pid => _process?.Pid ?? 0;

    /// <summary>Starts nginx with <paramref name="httpDirectives"/> in its http block and <paramref name="serverDirectives"/> in its one server.</summary>
    /// <param name="httpDirectives">Given the server's temp folder, so caches can live in it.</param>
    public static async Task<NginxServer> StartAsync(string name, Func<string, string> httpDirectives, string serverDirectives, CancellationToken cancellationToken)
    {
        var server = new NginxServer(name, TempFolder.Create(name), LoopbackPort.Next());
        try
        {
            var config = server._folder.Combine("nginx.conf");
            await File.WriteAllTextAsync(config, server.Config(httpDirectives(server.Folder), serverDirectives), cancellationToken);
            server._process = ChildProcess.Start(
                RequiredTools.Find("nginx"),
                ["-p", server.Folder + "/", "-c", config, "-e", server._folder.Combine("error.log")],
                server._output);
            await server.WaitListeningAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public string ErrorLogTail(int lines = 20)
    {
        var path = _folder.Combine("error.log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no error log)";
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
        _output.Dispose();
        _folder.Dispose();
    }

    private async Task WaitListeningAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process!.HasExited)
            {
                await _process.DrainOutputAsync(TimeSpan.FromSeconds(2));
                throw new InvalidOperationException($"nginx ({Name}) exited with code {await _process.Exited} while starting\n{_output.Tail()}\n{ErrorLogTail()}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", _port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"nginx ({Name}) did not listen on 127.0.0.1:{_port} within {StartTimeout}\n{ErrorLogTail()}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    private string Config(string httpDirectives, string serverDirectives)
    {
        var folder = Folder;
        // A master running as root hands its workers to "nobody", who could not write the cache in our root-owned temp folder.
        var user = Environment.IsPrivilegedProcess ? "user root;" : "";
        return $$"""
            daemon off;
            master_process on;
            # One worker per core, as "auto" picks: nginx's own best setting on this machine.
            worker_processes {{Environment.ProcessorCount}};
            {{user}}
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;

            events {
                worker_connections 4096;
            }

            http {
                access_log off;
                client_body_temp_path {{folder}}/client_body;
                proxy_temp_path {{folder}}/proxy_temp;
                fastcgi_temp_path {{folder}}/fastcgi_temp;
                uwsgi_temp_path {{folder}}/uwsgi_temp;
                scgi_temp_path {{folder}}/scgi_temp;
                default_type application/octet-stream;
                sendfile on;
                tcp_nopush on;
                # nginx closes a keep-alive connection after 1000 requests by default; Kestrel never does. Reconnects would
                # otherwise show up in nginx's manifest latencies only.
                keepalive_requests 1000000;
                keepalive_timeout 300s;
            {{httpDirectives}}
                server {
                    listen 127.0.0.1:{{_port}};
            {{serverDirectives}}
                }
            }
            """;
    }
}
