using System.CommandLine;
using System.Globalization;
using NodeCache.Control.V1;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary><c>nodecache peers</c>: the cluster's agents as this node's agent knows them, the bytes exchanged, recent errors.</summary>
internal static class PeersCommand
{
    public static Command Create()
    {
        var command = new Command("peers", "Show the cluster's agents this agent shares blobs with: state, bytes each way, recent errors");
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var peers = await agent.Client.ListPeersAsync(new ListPeersRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(CommonOptions.Output) == OutputFormat.Json)
            {
                Console.WriteLine(CommonOptions.Json(peers));
                return ExitCode.Ok;
            }
            var table = new Table().AddColumns("PEER", "NODE", "ZONE", "STATE", "RECEIVED", "SENT", "REQUESTS", "FAILURES");
            foreach (var peer in peers.Peers)
            {
                table.AddRow(
                    Markup.Escape(peer.Url), Markup.Escape(Or(peer.Node)), Markup.Escape(Or(peer.Zone)),
                    peer.AvoidedUntil is { } until ? $"avoided until {until.ToDateTimeOffset():HH:mm:ss}" : peer.State,
                    ByteSize.Format(peer.ReceivedBytes), ByteSize.Format(peer.SentBytes),
                    peer.Requests.ToString(CultureInfo.InvariantCulture), peer.Failures.ToString(CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            var errors = peers.Peers.SelectMany(peer => peer.RecentErrors.Select(error => (peer.Url, error))).OrderBy(e => e.error.At).ToList();
            if (errors.Count > 0)
            {
                Console.WriteLine("recent errors:");
                foreach (var (url, error) in errors)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {error.At.ToDateTimeOffset():HH:mm:ss} {url} {error.Reason}: {error.Detail}"));
                }
            }
            return ExitCode.Ok;
        });
        return command;
    }

    private static string Or(string text) => text.Length == 0 ? "-" : text;
}
