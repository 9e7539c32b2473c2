using System.CommandLine;
using NodeCache.Cli.Containerd;

namespace NodeCache.Cli.Commands;

/// <summary><c>nodecache containerd hosts</c>: point containerd at the agent with one hosts.toml per registry, or undo it.</summary>
internal static class ContainerdCommand
{
    public static Command Create()
    {
        var mirror = new Option<string?>("--mirror") { Description = "the agent's URL as containerd reaches it, e.g. http://127.0.0.1:5050" };
        var registries = new Option<string[]>("--registry")
        {
            Description = "a registry to mirror, NS or NS=UPSTREAM (the server containerd falls back to); repeatable; _default covers every other registry",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
            Required = true,
        };
        var directory = new Option<string>("--dir") { Description = "containerd's registry config_path", DefaultValueFactory = _ => "/etc/containerd/certs.d" };
        var remove = new Option<bool>("--remove") { Description = "remove the files written here and restore the ones they replaced" };
        var untilStopped = new Option<bool>("--until-stopped") { Description = "write the files, wait for SIGTERM or Ctrl+C, then remove them (a node agent's sidecar)" };
        var hosts = new Command("hosts", "Write each registry's hosts.toml with the agent as mirror (backing up files it replaces), or --remove them") { mirror, registries, directory, remove, untilStopped };
        hosts.SetLocalAction(async (parse, cancellationToken) =>
        {
            var files = new HostsFiles(parse.GetValue(directory)!);
            var mirrors = parse.GetValue(registries)!.Select(RegistryMirror.Parse).ToList();
            IReadOnlyList<HostsChange> changes;
            if (parse.GetValue(remove))
            {
                changes = files.Remove(mirrors.Select(m => m.Registry));
            }
            else
            {
                var url = parse.GetValue(mirror) ?? throw new CliFailure(ExitCode.Usage, "--mirror is required to write hosts.toml files");
                if (!(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                {
                    throw new CliFailure(ExitCode.Usage, $"--mirror '{url}' is not an http(s) URL");
                }
                changes = files.Write(url.TrimEnd('/'), mirrors);
            }
            Print(changes);
            if (parse.GetValue(untilStopped) && !parse.GetValue(remove))
            {
                try
                {
                    // Cancelled by SIGTERM or SIGINT, handled from the process's start (StopSignal): a stop at any moment
                    // after the files are written puts the previous ones back.
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Print(files.Remove(mirrors.Select(m => m.Registry)));
                }
            }
            return ExitCode.Ok;
        });
        return new Command("containerd", "Configure containerd on this node") { hosts };
    }

    private static void Print(IReadOnlyList<HostsChange> changes)
    {
        foreach (var change in changes)
        {
            Console.WriteLine($"{change.Path}: {change.What}");
        }
    }
}
