using System.CommandLine;
using System.Globalization;
using NodeCache.Control.V1;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary><c>nodecache stats</c>: how full the cache is.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var command = new Command("stats", "Show the cache's usage, capacity and fills in progress");
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var stats = await agent.Client.GetStatsAsync(new GetStatsRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(CommonOptions.Output) == OutputFormat.Json)
            {
                Console.WriteLine(CommonOptions.Json(stats));
                return ExitCode.Ok;
            }
            var used = stats.CapacityBytes > 0 ? $" ({100.0 * stats.UsedBytes / stats.CapacityBytes:0.#}% of capacity)" : "";
            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("cache", Markup.Escape(stats.CacheDir));
            grid.AddRow("default registry", Markup.Escape(stats.DefaultRegistry));
            grid.AddRow("used", ByteSize.Format(stats.UsedBytes) + used);
            grid.AddRow("capacity", ByteSize.Format(stats.CapacityBytes));
            grid.AddRow("filesystem free", ByteSize.Format(stats.FilesystemFreeBytes));
            grid.AddRow("blobs", stats.Blobs.ToString(CultureInfo.InvariantCulture));
            grid.AddRow("images", stats.Images.ToString(CultureInfo.InvariantCulture));
            grid.AddRow("pinned", ByteSize.Format(stats.PinnedBytes));
            grid.AddRow("evictions", stats.Evictions.ToString(CultureInfo.InvariantCulture));
            grid.AddRow("fills in flight", stats.FillsInFlight.ToString(CultureInfo.InvariantCulture));
            AnsiConsole.Write(grid);
            return ExitCode.Ok;
        });
        return command;
    }
}
