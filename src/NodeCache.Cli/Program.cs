using System.CommandLine;
using NodeCache.Cli;
using NodeCache.Cli.Commands;

if (Console.IsOutputRedirected)
{
    // A log or a pipe has no width; tables keep one row per line up to this many columns rather than wrapping at 80.
    Spectre.Console.AnsiConsole.Profile.Width = 200;
}

var root = new RootCommand("Operate the nodecache agent on this node: prewarm images, list and manage the cache, watch pulls, configure containerd.")
{
    CommonOptions.Output,
    CommonOptions.Agent,
};
root.Subcommands.Add(PrewarmCommand.Create());
root.Subcommands.Add(ListCommand.Create());
root.Subcommands.Add(StatsCommand.Create());
root.Subcommands.Add(CacheEditCommands.Evict());
root.Subcommands.Add(CacheEditCommands.Pin());
root.Subcommands.Add(CacheEditCommands.Unpin());
root.Subcommands.Add(PullsCommand.Create());
root.Subcommands.Add(PeersCommand.Create());
root.Subcommands.Add(ContainerdCommand.Create());
root.Subcommands.Add(ImportCommand.Create());
root.Subcommands.Add(ExportCommand.Create());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"nodecache: {error.Message}");
    }
    Console.Error.WriteLine("see nodecache --help");
    return (int)ExitCode.Usage;
}
// SIGTERM and SIGINT are this process's to handle, not System.CommandLine's (see StopSignal).
using var stop = new StopSignal();
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token).ConfigureAwait(false);
