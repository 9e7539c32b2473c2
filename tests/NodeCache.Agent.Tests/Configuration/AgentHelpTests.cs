using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Configuration;

/// <summary>The real <c>nodecache-agent --help</c>, read as a user reads it in a terminal.</summary>
public sealed class AgentHelpTests
{
    [Fact]
    public async Task Every_options_description_starts_in_one_column_after_its_flag()
    {
        var help = await BuildOutput.RunAsync(AgentProcess.AssemblyPath, ["--help"], TimeSpan.FromMinutes(1));
        help.EnsureSucceeded("nodecache-agent --help");
        var options = help.Stdout.Split('\n').Where(line => line.StartsWith("  --", StringComparison.Ordinal)).ToList();

        var columns = options.Select(DescriptionColumn).Distinct().ToList();

        Assert.True(options.Count >= 20, help.Stdout);
        Assert.True(columns.Count == 1, $"descriptions start in columns {string.Join(", ", columns)}:\n{help.Stdout}");
        Assert.Contains(options, line => line.StartsWith("  --private-images serve|verify|passthrough  who gets", StringComparison.Ordinal));
    }

    // "  --flag PLACEHOLDER   description": the description starts after the first run of two or more spaces.
    private static int DescriptionColumn(string line)
    {
        var column = line.IndexOf("  ", 2, StringComparison.Ordinal);
        while (column >= 0 && column < line.Length && line[column] == ' ')
        {
            column++;
        }
        return column;
    }
}
