using System.Text.RegularExpressions;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Docs;

/// <summary>
/// docs/configuration.md is the reference of the agent's options: its table names exactly the options the real
/// <c>nodecache-agent --help</c> prints, so an option added without a line there, or a line left behind by an option
/// that went away, fails here.
/// </summary>
public sealed partial class ConfigurationReferenceTests
{
    [Fact]
    public async Task The_configuration_page_lists_every_option_of_nodecache_agent_help_and_no_other()
    {
        var help = await BuildOutput.RunAsync(AgentProcess.AssemblyPath, ["--help"], TimeSpan.FromMinutes(1));
        help.EnsureSucceeded("nodecache-agent --help");
        var offered = HelpOption().Matches(help.Stdout).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var page = File.ReadAllLines(Path.Combine(Helm.RepositoryRoot, "docs", "configuration.md"));
        var documented = page.Select(line => TableOption().Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        Assert.True(offered.Count >= 20, $"--help listed only {offered.Count} options:\n{help.Stdout}");
        Assert.True(offered.SetEquals(documented),
            $"in --help but not in docs/configuration.md: {string.Join(", ", offered.Except(documented))}; " +
            $"in docs/configuration.md but not in --help: {string.Join(", ", documented.Except(offered))}");
    }

    // "  --cache-dir DIR   folder for ...": an option at the start of a usage line.
    [GeneratedRegex(@"^\s+(--[a-z][a-z0-9-]*)\s", RegexOptions.Multiline)]
    private static partial Regex HelpOption();

    // "| `--cache-dir DIR` | ...": the first cell of a row of the option table.
    [GeneratedRegex(@"^\|\s*`(--[a-z][a-z0-9-]*)[ `]")]
    private static partial Regex TableOption();
}
