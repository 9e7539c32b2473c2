using System.CommandLine;
using Grpc.Core;
using System.Globalization;
using NodeCache.Control.V1;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary><c>nodecache pulls [--watch]</c>: the image pulls on this node, as a table or a live one.</summary>
internal static class PullsCommand
{
    public static Command Create()
    {
        var watch = new Option<bool>("--watch", "-w") { Description = "keep the table live as pulls start and end (JSON: one line per event)" };
        var command = new Command("pulls", "Show the image pulls on this node: image, bytes, source, duration") { watch };
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var follow = parse.GetValue(watch);
            var json = parse.GetValue(CommonOptions.Output) == OutputFormat.Json;
            using var call = agent.Client.WatchPulls(new WatchPullsRequest { IncludeRecent = true, Follow = follow }, cancellationToken: cancellationToken);
            var pulls = new SortedDictionary<long, PullEvent>();
            try
            {
                if (!follow)
                {
                    await foreach (var pull in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                    {
                        pulls[pull.Id] = pull;
                    }
                    if (json)
                    {
                        Console.WriteLine("[" + string.Join(",", pulls.Values.Select(CommonOptions.Json)) + "]");
                    }
                    else
                    {
                        AnsiConsole.Write(Table(pulls.Values));
                    }
                }
                else if (json)
                {
                    await foreach (var pull in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                    {
                        Console.WriteLine(CommonOptions.Json(pull));
                    }
                }
                else
                {
                    await AnsiConsole.Live(Table(pulls.Values)).StartAsync(async live =>
                    {
                        await foreach (var pull in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                        {
                            pulls[pull.Id] = pull;
                            live.UpdateTarget(Table(pulls.Values.TakeLast(Math.Max(Console.WindowHeight - 6, 10))));
                        }
                    }).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            return ExitCode.Ok;
        });
        return command;
    }

    private static Table Table(IEnumerable<PullEvent> pulls)
    {
        var table = new Table().AddColumns("IMAGE", "BYTES", "SOURCE", "REQUESTS", "STARTED", "DURATION", "STATE");
        foreach (var pull in pulls)
        {
            var reference = pull.Reference.Contains(':', StringComparison.Ordinal) ? "@" + PrewarmCommand.Short(pull.Reference) : ":" + pull.Reference;
            table.AddRow(
                Markup.Escape($"{pull.Registry}/{pull.Repository}{reference}"),
                ByteSize.Format(pull.Bytes),
                pull.Source switch { PullSource.Cache => "cache", PullSource.Upstream => "upstream", _ => "mixed" },
                pull.Requests.ToString(CultureInfo.InvariantCulture),
                pull.StartedAt?.ToDateTimeOffset().ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "-",
                pull.Finished ? $"{pull.Duration.ToTimeSpan().TotalSeconds:0.00}s" : "-",
                pull.Failed ? "failed" : pull.Finished ? "done" : "pulling");
        }
        return table;
    }
}
