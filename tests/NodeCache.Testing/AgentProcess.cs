using System.Diagnostics;
using System.Net;
using NodeCache.Testing.Cluster;

namespace NodeCache.Testing;

/// <summary>
/// The real <c>nodecache-agent</c>, run from the test output folder (the test project references the agent project,
/// so its build lands there) with <c>--listen 127.0.0.1:&lt;port&gt; --cache-dir &lt;temp&gt;</c> and the test's
/// own arguments. Its output is captured for assertions and for the messages of failed waits. On a machine of a
/// <see cref="NodeNetwork"/> it runs inside that namespace and listens on the node's own <c>127.0.0.1:5050</c>, as on a node.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    public const string AssemblyName = "nodecache-agent";

    /// <summary>The port an agent in a machine's namespace listens on, as the chart's agent does on every node.</summary>
    public const int NodePort = 5050;

    private static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly TempFolder _folder;
    private readonly CapturedOutput _output;
    private readonly HttpClient _http;
    private ChildProcess _process = null!;

    private readonly IReadOnlyDictionary<string, string> _environment;

    private AgentProcess(TempFolder folder, int port, string cacheDir, IReadOnlyList<string> extraArguments, NetworkNamespace? machine, IReadOnlyDictionary<string, string>? environment)
    {
        _folder = folder;
        Machine = machine;
        _environment = environment ?? new Dictionary<string, string>();
        _http = new HttpClient(CreateHandler()) { Timeout = TimeSpan.FromSeconds(5) };
        HostPort = $"127.0.0.1:{port}";
        BaseUri = new Uri($"http://{HostPort}/");
        CacheDir = cacheDir;
        LogPath = folder.Combine("agent.log");
        var given = extraArguments.ToList().IndexOf("--control-socket");
        ControlSocket = given >= 0 && given + 1 < extraArguments.Count ? extraArguments[given + 1] : folder.Combine("control.sock");
        // Each agent gets a control socket of its own, never the shared default under $XDG_RUNTIME_DIR.
        string[] socket = given >= 0 ? [] : ["--control-socket", ControlSocket];
        Arguments = ["--listen", HostPort, "--cache-dir", CacheDir, .. socket, .. extraArguments];
        _output = new CapturedOutput(LogPath);
    }

    public Uri BaseUri { get; }

    /// <summary>The machine whose namespace the agent runs in; null on this process's own loopback.</summary>
    public NetworkNamespace? Machine { get; }

    /// <summary><c>127.0.0.1:port</c>, the form hosts.toml mirror URLs and <c>--listen</c> use.</summary>
    public string HostPort { get; }

    public string CacheDir { get; }

    /// <summary>The Unix socket of the agent's control API, which the nodecache CLI talks to.</summary>
    public string ControlSocket { get; }

    public string LogPath { get; }

    /// <summary>Everything the agent was started with, <c>--listen</c>, <c>--cache-dir</c> and <c>--control-socket</c> first.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>stdout and stderr of every run of the agent, restarts included.</summary>
    public CapturedOutput Output => _output;

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public Task<int> Exited => _process.Exited;

    /// <summary>Where the agent's build is expected: beside the test assembly.</summary>
    public static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");

    /// <summary>The <c>--upstream</c> argument that maps a registry host name to an upstream URL.</summary>
    public static string[] Upstream(string registryHost, Uri upstream) =>
        ["--upstream", $"{registryHost}={upstream.ToString().TrimEnd('/')}"];

    /// <summary>
    /// Launches the agent without waiting for it to be ready; <paramref name="cacheDir"/> reuses a cache left by an earlier
    /// agent, <paramref name="machine"/> runs it inside that machine's namespace on <c>127.0.0.1:5050</c>, and
    /// <paramref name="environment"/> adds variables (runtime settings) to its environment.
    /// </summary>
    public static AgentProcess Launch(IEnumerable<string> arguments, string? cacheDir = null, NetworkNamespace? machine = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var folder = TempFolder.Create("agent");
        var port = machine is null ? LoopbackPort.Next() : NodePort;
        var agent = new AgentProcess(folder, port, cacheDir ?? folder.Combine("cache", create: true), [.. arguments], machine, environment);
        agent.Run();
        return agent;
    }

    /// <summary>Launches the agent and waits until <c>/readyz</c> answers 200.</summary>
    public static async Task<AgentProcess> StartAsync(IEnumerable<string> arguments, string? cacheDir = null, NetworkNamespace? machine = null, CancellationToken cancellationToken = default)
    {
        var agent = Launch(arguments, cacheDir, machine);
        try
        {
            await agent.WaitReadyAsync(cancellationToken: cancellationToken);
            return agent;
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>GET /readyz</c> until it answers 200; fails at once if the agent exits, and with its log on timeout.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? DefaultReadyTimeout;
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.DrainOutputAsync(TimeSpan.FromSeconds(2));
                throw new InvalidOperationException($"nodecache-agent exited with code {await _process.Exited} before it was ready\n{LogTail()}");
            }
            try
            {
                using var response = await _http.GetAsync(new Uri(BaseUri, "/readyz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                last = $"GET /readyz answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                last = "GET /readyz timed out";
            }
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"nodecache-agent was not ready within {limit} ({last})\n{LogTail()}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>SIGTERM, a grace period for the agent to finish and flush, then SIGKILL; returns the exit code.</summary>
    public Task<int> StopAsync(TimeSpan? grace = null) => _process.StopAsync(grace ?? TimeSpan.FromSeconds(15));

    /// <summary>SIGKILL, as a crash or the OOM killer would end it: nothing gets flushed.</summary>
    public void Kill() => _process.Kill();

    /// <summary>Stops the agent if it still runs, then starts it again with the same arguments, port and cache, and waits until it is ready.</summary>
    public Task RestartAsync(CancellationToken cancellationToken = default) => RestartAsync(null, cancellationToken);

    /// <summary>As <see cref="RestartAsync(CancellationToken)"/>, the agent given <paramref name="readyTimeout"/> (30 s when null) to be ready.</summary>
    public async Task RestartAsync(TimeSpan? readyTimeout, CancellationToken cancellationToken = default)
    {
        if (!_process.HasExited)
        {
            await StopAsync();
        }
        await _process.DisposeAsync();
        Run();
        await WaitReadyAsync(readyTimeout, cancellationToken);
    }

    /// <summary>A handler for clients of this agent: one whose connections start in the agent's namespace when it runs in one.</summary>
    public HttpMessageHandler CreateHandler() => Machine?.CreateHandler() ?? new SocketsHttpHandler();

    public string LogTail(int lines = 60) =>
        $"--- nodecache-agent output ({string.Join(' ', Arguments)}; {LogPath})\n{_output.Tail(lines)}";

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

    private void Run()
    {
        if (!File.Exists(AssemblyPath))
        {
            throw new InvalidOperationException($"{AssemblyPath} not found: build the solution (tests/run does) so the agent lands beside the tests");
        }
        string[] command = [DotnetHost(), "exec", AssemblyPath, .. Arguments];
        if (Machine is not null)
        {
            command = [.. Machine.Command(command[0], command[1..])];
        }
        // Plain output: no ANSI colours in what tests read, and no telemetry from a test run.
        var environment = new Dictionary<string, string>(_environment)
        {
            ["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "false",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };
        _process = ChildProcess.Start(command[0], command[1..], _output, environment, _folder.Path);
    }

    /// <summary>The dotnet host running these tests, so the agent runs on the same runtime; PATH's otherwise.</summary>
    internal static string DotnetHost()
    {
        if (Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }
        return RequiredTools.Find("dotnet");
    }
}
