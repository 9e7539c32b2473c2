using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using NodeCache.Control;
using NodeCache.Control.V1;

namespace NodeCache.Cli;

/// <summary>
/// The gRPC channel to the agent's control API: its Unix socket (the default, found the way the agent chooses it), or an
/// <c>http://host:port</c> address when the agent also serves the API over TCP.
/// </summary>
internal sealed class AgentConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    private AgentConnection(string address, GrpcChannel channel)
    {
        Address = address;
        _channel = channel;
        Client = new CacheControl.CacheControlClient(channel);
    }

    /// <summary>What the CLI connects to, as it names it in errors.</summary>
    public string Address { get; }

    public CacheControl.CacheControlClient Client { get; }

    /// <summary>The socket or address given, else <c>$NODECACHE_CONTROL_SOCKET</c>, else the agent's default socket.</summary>
    public static AgentConnection Open(string? agent)
    {
        var address = agent
            ?? NonEmpty(Environment.GetEnvironmentVariable(DefaultPaths.ControlSocketVariable))
            ?? DefaultPaths.ControlSocket(NonEmpty(Environment.GetEnvironmentVariable("NODECACHE_CACHE_DIR")) ?? DefaultPaths.CacheDir());
        if (address.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return new AgentConnection(address, GrpcChannel.ForAddress(address));
        }
        var socket = address.StartsWith("unix:", StringComparison.Ordinal) ? address["unix:".Length..] : address;
        var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // The authority is a placeholder: every connection goes to the socket.
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken).ConfigureAwait(false);
                        return new NetworkStream(client, ownsSocket: true);
                    }
                    catch
                    {
                        client.Dispose();
                        throw;
                    }
                },
            },
        });
        return new AgentConnection(socket, channel);
    }

    /// <summary>An error of a call, as the one line and exit code the user gets.</summary>
    public CliFailure Failure(RpcException error) => error.StatusCode switch
    {
        StatusCode.Unavailable when !Address.StartsWith("http", StringComparison.Ordinal) && !File.Exists(Address) =>
            new CliFailure(ExitCode.AgentNotRunning, $"the agent is not running: there is no control socket at {Address} (see --agent)"),
        StatusCode.Unavailable => new CliFailure(ExitCode.AgentNotRunning, $"the agent is not running: nothing answers at {Address} ({Inner(error)})"),
        StatusCode.InvalidArgument => new CliFailure(ExitCode.BadReference, error.Status.Detail),
        StatusCode.NotFound => new CliFailure(ExitCode.NotFound, error.Status.Detail),
        StatusCode.Unimplemented => new CliFailure(ExitCode.Unsupported, error.Status.Detail),
        StatusCode.FailedPrecondition => new CliFailure(ExitCode.Refused, error.Status.Detail),
        StatusCode.DataLoss => new CliFailure(ExitCode.BadArchive, error.Status.Detail),
        StatusCode.PermissionDenied => new CliFailure(ExitCode.Failed, $"not allowed: {error.Status.Detail}"),
        _ => new CliFailure(ExitCode.Failed, $"the agent answered {error.StatusCode}: {error.Status.Detail}"),
    };

    public void Dispose() => _channel.Dispose();

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string Inner(RpcException error)
    {
        var inner = error.Status.DebugException;
        while (inner?.InnerException is not null)
        {
            inner = inner.InnerException;
        }
        return inner?.Message ?? error.Status.Detail;
    }
}
