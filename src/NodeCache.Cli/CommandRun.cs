using System.CommandLine;
using Grpc.Core;

namespace NodeCache.Cli;

/// <summary>Runs a command's body against the agent, turning every expected failure into one line on stderr and its exit code.</summary>
internal static class CommandRun
{
    public static void SetAgentAction(this Command command, Func<ParseResult, AgentConnection, CancellationToken, Task<ExitCode>> body) =>
        command.SetAction((parse, cancellationToken) => RunAgentAsync(parse, body, cancellationToken));

    public static async Task<int> RunAgentAsync(ParseResult parse, Func<ParseResult, AgentConnection, CancellationToken, Task<ExitCode>> body, CancellationToken cancellationToken)
    {
        using var agent = AgentConnection.Open(parse.GetValue(CommonOptions.Agent));
        try
        {
            return (int)await body(parse, agent, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStop(ex, cancellationToken))
        {
            return ReportStop();
        }
        catch (RpcException ex)
        {
            return Report(agent.Failure(ex));
        }
        catch (CliFailure ex)
        {
            return Report(ex);
        }
    }

    public static void SetLocalAction(this Command command, Func<ParseResult, CancellationToken, Task<ExitCode>> body) =>
        command.SetAction((parse, cancellationToken) => RunLocalAsync(parse, body, cancellationToken));

    /// <summary>Runs a body that needs no agent (it may talk to something else, such as the Kubernetes API).</summary>
    public static async Task<int> RunLocalAsync(ParseResult parse, Func<ParseResult, CancellationToken, Task<ExitCode>> body, CancellationToken cancellationToken)
    {
        try
        {
            return (int)await body(parse, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStop(ex, cancellationToken))
        {
            return ReportStop();
        }
        catch (CliFailure ex)
        {
            return Report(ex);
        }
    }

    // SIGINT or SIGTERM (StopSignal) cancelled the command while it waited: a gRPC call reports that as Cancelled.
    private static bool IsStop(Exception exception, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested && exception is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled };

    private static int ReportStop()
    {
        Console.Error.WriteLine("nodecache: stopped before it finished");
        return (int)ExitCode.Stopped;
    }

    public static int Report(CliFailure failure)
    {
        Console.Error.WriteLine($"nodecache: {failure.Message}");
        return (int)failure.Code;
    }
}
