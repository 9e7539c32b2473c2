using NodeCache.Oci;
using Tomlyn;
using Tomlyn.Model;

namespace NodeCache.Cli.Containerd;

/// <summary>What happened to one registry's hosts.toml.</summary>
internal sealed record HostsChange(string Registry, string Path, string What);

/// <summary>
/// containerd's per-registry mirror configuration, <c>&lt;dir&gt;/&lt;registry&gt;/hosts.toml</c>: the agent as the first
/// host for pull and resolve, the registry (or its upstream) as <c>server</c>, the last resort. A file this tool did not write
/// is kept beside it as <see cref="BackupName"/> and put back by <see cref="Remove"/>.
/// </summary>
internal sealed class HostsFiles(string directory)
{
    public const string FileName = "hosts.toml";
    public const string BackupName = "hosts.toml.nodecache-backup";

    // The first line of every file written here: how a later run knows the file is its own and not the node's.
    private const string Marker = "# Written by nodecache containerd hosts; `nodecache containerd hosts --remove` restores the previous file.";

    /// <summary>Writes each registry's hosts.toml, keeping a file someone else wrote as a backup.</summary>
    public IReadOnlyList<HostsChange> Write(string mirror, IEnumerable<RegistryMirror> registries)
    {
        var changes = new List<HostsChange>();
        foreach (var registry in registries)
        {
            var folder = Path.Combine(directory, registry.Registry);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, FileName);
            var backup = Path.Combine(folder, BackupName);
            var what = "written";
            // containerd reads the file on every pull: it must never see half of it, nor find none and go to the registry
            // directly. The node's file is therefore copied aside, and the new one renamed over it.
            if (File.Exists(path) && !IsOurs(path))
            {
                ReplaceAtomically(backup, File.ReadAllBytes(path));
                what = $"written; the previous file is kept as {BackupName}";
            }
            ReplaceAtomically(path, System.Text.Encoding.UTF8.GetBytes(Render(mirror, registry.Server)));
            changes.Add(new HostsChange(registry.Registry, path, what));
        }
        return changes;
    }

    /// <summary>Removes the files this tool wrote and puts back the ones they replaced; leaves files it did not write alone.</summary>
    public IReadOnlyList<HostsChange> Remove(IEnumerable<string> registries)
    {
        var changes = new List<HostsChange>();
        foreach (var registry in registries)
        {
            var folder = Path.Combine(directory, registry);
            var path = Path.Combine(folder, FileName);
            var backup = Path.Combine(folder, BackupName);
            if (File.Exists(path) && !IsOurs(path))
            {
                changes.Add(new HostsChange(registry, path, "left alone: not written by nodecache"));
                continue;
            }
            if (File.Exists(backup))
            {
                File.Move(backup, path, overwrite: true);
                changes.Add(new HostsChange(registry, path, "restored"));
                continue;
            }
            if (File.Exists(path))
            {
                File.Delete(path);
                if (!Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    Directory.Delete(folder);
                }
                changes.Add(new HostsChange(registry, path, "removed"));
            }
            else
            {
                changes.Add(new HostsChange(registry, path, "nothing to remove"));
            }
        }
        return changes;
    }

    /// <summary>The hosts.toml text: <c>server</c> (when there is one) and the mirror for pull and resolve.</summary>
    public static string Render(string mirror, string? server)
    {
        var table = new TomlTable();
        if (server is not null)
        {
            table["server"] = server;
        }
        table["host"] = new TomlTable
        {
            [mirror] = new TomlTable { ["capabilities"] = new TomlArray { "pull", "resolve" } },
        };
        return Marker + "\n" + TomlSerializer.Serialize(table, HostsToml.Default.TomlTable);
    }

    private static void ReplaceAtomically(string path, byte[] content)
    {
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, content);
        File.Move(temp, path, overwrite: true);
    }

    private static bool IsOurs(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine() == Marker;
    }
}

/// <summary>One <c>--registry NS[=UPSTREAM]</c>: the registry containerd names, and the server it falls back to.</summary>
internal sealed record RegistryMirror(string Registry, string? Server)
{
    /// <summary>Parses <c>NS[=UPSTREAM]</c>; without an upstream the registry itself is the server (docker.io's is registry-1.docker.io).</summary>
    public static RegistryMirror Parse(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var registry = (equals < 0 ? text : text[..equals]).Trim().ToLowerInvariant();
        var upstream = equals < 0 ? null : text[(equals + 1)..].Trim();
        if (registry != "_default" && !RegistryHost.IsValid(registry))
        {
            throw new CliFailure(ExitCode.Usage, $"--registry '{text}': '{registry}' is not a registry host[:port] or _default");
        }
        if (upstream is not null && !(Uri.TryCreate(upstream, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            throw new CliFailure(ExitCode.Usage, $"--registry '{text}': '{upstream}' is not an http(s) URL");
        }
        var server = upstream ?? registry switch
        {
            "_default" => null,
            ImageReference.DockerHub => "https://registry-1.docker.io",
            _ => $"https://{registry}",
        };
        return new RegistryMirror(registry, server);
    }
}
