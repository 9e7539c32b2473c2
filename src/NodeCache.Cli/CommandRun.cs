using System.CommandLine;
using Grpc.Core;

namespace NodeCache.Cli;

/// <summary>Runs a command's body against the agent, turning every expected failure into one line on stderr and its exit code.</summary>
internal static class CommandRun
{
    public static void SetAgentAction(this Command command, Func<ParseResult, AgentConnection, CancellationToken, Task<ExitCode>> body) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var agent = AgentConnection.Open(parse.GetValue(CommonOptions.Agent));
            try
            {
                return (int)await body(parse, agent, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
            {
                return Report(agent.Failure(ex));
            }
            catch (CliFailure ex)
            {
                return Report(ex);
            }
        });

    public static void SetLocalAction(this Command command, Func<ParseResult, CancellationToken, Task<ExitCode>> body) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return (int)await body(parse, cancellationToken).ConfigureAwait(false);
            }
            catch (CliFailure ex)
            {
                return Report(ex);
            }
        });

    public static int Report(CliFailure failure)
    {
        Console.Error.WriteLine($"nodecache: {failure.Message}");
        return (int)failure.Code;
    }
}
