using System.Net;
using System.Net.Sockets;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Control;

/// <summary>
/// A command stopped while it waits on the agent, by Ctrl+C at a terminal or SIGTERM from the kubelet: one line and its own
/// exit code, not a stack trace. The upstream accepts connections and never answers, so a prewarm waits until it is stopped.
/// </summary>
public sealed class StoppedCommandTests : IAsyncLifetime
{
    private const string Harbor = "harbor.test";

    private readonly TcpListener _silentUpstream = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = [];
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AgentProcess _agent = null!;

    public async Task InitializeAsync()
    {
        _silentUpstream.Start();
        _ = HoldConnectionsAsync();
        var port = ((IPEndPoint)_silentUpstream.LocalEndpoint).Port;
        _agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, new Uri($"http://127.0.0.1:{port}")));
    }

    [Theory]
    [InlineData("SIGINT")]
    [InlineData("SIGTERM")]
    public async Task A_prewarm_stopped_while_it_waits_says_so_in_one_line_and_exits_130(string signal)
    {
        using var output = new CapturedOutput(null);
        await using var cli = NodeCacheCli.StartInForeground(_agent, output, "prewarm", $"{Harbor}/team/waiting:1");
        await _connected.Task.WaitAsync(TimeSpan.FromSeconds(30));

        if (signal == "SIGINT")
        {
            cli.Interrupt();
        }
        else
        {
            cli.Terminate();
        }

        Assert.Equal(130, await cli.Exited.WaitAsync(TimeSpan.FromSeconds(20)));
        await cli.DrainOutputAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["nodecache: stopped before it finished"], output.Lines(OutputStream.Stderr));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _silentUpstream.Stop();
        foreach (var socket in _held)
        {
            socket.Dispose();
        }
    }

    private async Task HoldConnectionsAsync()
    {
        try
        {
            while (true)
            {
                _held.Add(await _silentUpstream.AcceptSocketAsync());
                _connected.TrySetResult();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The listener was stopped: the test is over.
        }
    }
}
