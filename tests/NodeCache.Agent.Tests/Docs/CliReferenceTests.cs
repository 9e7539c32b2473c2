using System.Text.RegularExpressions;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Docs;

/// <summary>docs/cli.md has a row for every command the real <c>nodecache --help</c> lists, and none for a command it does not.</summary>
public sealed partial class CliReferenceTests
{
    [Fact]
    public async Task The_cli_page_has_a_row_for_every_command_of_nodecache_help_and_no_other()
    {
        var help = (await NodeCacheCli.RunAsync(["--help"])).EnsureSucceeded("nodecache --help");
        var commandsSection = help.Stdout[help.Stdout.IndexOf("Commands:", StringComparison.Ordinal)..];
        var offered = HelpCommand().Matches(commandsSection).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var page = File.ReadAllLines(Path.Combine(Helm.RepositoryRoot, "docs", "cli.md"));
        var documented = page.Select(line => TableCommand().Match(line)).Where(m => m.Success)
            .SelectMany(m => m.Groups[1].Value.Split(@"\|"))
            .ToHashSet(StringComparer.Ordinal);

        Assert.True(offered.Count >= 8, $"--help listed only {offered.Count} commands:\n{help.Stdout}");
        Assert.True(offered.SetEquals(documented),
            $"in --help but not in docs/cli.md: {string.Join(", ", offered.Except(documented))}; " +
            $"in docs/cli.md but not in --help: {string.Join(", ", documented.Except(offered))}");
    }

    // "  prewarm <image>   Fetch images ...": a command at the start of a line of the Commands section.
    [GeneratedRegex(@"^\s{2}([a-z][a-z-]*)\b", RegexOptions.Multiline)]
    private static partial Regex HelpCommand();

    // "| `nodecache evict\|pin\|unpin TARGET` | ...": the commands a row of the command table names.
    [GeneratedRegex(@"^\|\s*`nodecache ([a-z][a-z-]*(?:\\\|[a-z][a-z-]*)*)[ `]")]
    private static partial Regex TableCommand();
}
