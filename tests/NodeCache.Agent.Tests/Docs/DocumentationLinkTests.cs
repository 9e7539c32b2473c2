using System.Text.RegularExpressions;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Docs;

/// <summary>
/// Every relative link and anchor in the README and the pages under docs/ and perf/ leads somewhere, and every page
/// under docs/ is reachable from the README: a renamed heading or a moved page breaks a test, not a reader's click.
/// </summary>
public sealed partial class DocumentationLinkTests
{
    private static readonly string Root = Helm.RepositoryRoot;

    [Fact]
    public void Every_relative_link_and_anchor_in_the_documentation_resolves()
    {
        var pages = DocumentationPages().ToDictionary(p => p.Path, StringComparer.Ordinal);
        var broken = new List<string>();
        foreach (var page in pages.Values)
        {
            foreach (var link in page.Links)
            {
                if (Scheme().IsMatch(link.Target))
                {
                    continue;
                }
                var problem = Resolve(page, link.Target, pages);
                if (problem is not null)
                {
                    broken.Add($"{Relative(page.Path)}:{link.Line}: ({link.Target}) {problem}");
                }
            }
        }

        Assert.True(broken.Count == 0, "broken links:\n" + string.Join('\n', broken));
    }

    [Fact]
    public void Every_page_under_docs_is_linked_from_the_readme()
    {
        var readme = MarkdownPage.Read(Path.Combine(Root, "README.md"));
        var linked = readme.Links
            .Select(l => Path.GetFullPath(Path.Combine(Root, l.Target.Split('#')[0])))
            .ToHashSet(StringComparer.Ordinal);

        var unlinked = Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories)
            .Where(page => !linked.Contains(page))
            .Select(Relative)
            .ToList();

        Assert.True(unlinked.Count == 0, "pages no reader finds from the README: " + string.Join(", ", unlinked));
    }

    [Fact]
    public void Every_page_the_code_cites_exists_with_the_section_it_names()
    {
        var broken = new List<string>();
        var pages = new Dictionary<string, MarkdownPage>(StringComparer.Ordinal);
        foreach (var file in SourceFiles())
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                foreach (Match citation in Citation().Matches(lines[i]))
                {
                    var path = Path.Combine(Root, citation.Groups[1].Value);
                    if (!File.Exists(path))
                    {
                        broken.Add($"{Relative(file)}:{i + 1}: {citation.Value}: no such page");
                        continue;
                    }
                    var anchor = citation.Groups[2].Value;
                    if (anchor.Length > 0)
                    {
                        if (!pages.TryGetValue(path, out var page))
                        {
                            page = pages[path] = MarkdownPage.Read(path);
                        }
                        if (!page.Anchors.Contains(anchor))
                        {
                            broken.Add($"{Relative(file)}:{i + 1}: {citation.Value}: no heading #{anchor}");
                        }
                    }
                }
            }
        }

        Assert.True(broken.Count == 0, "citations of missing pages or sections:\n" + string.Join('\n', broken));
    }

    [Theory]
    [InlineData("Warm blobs go out by sendfile(2)", "warm-blobs-go-out-by-sendfile2")]
    [InlineData("Harbor's policies", "harbors-policies")]
    [InlineData("One repeatable `--upstream` with `_default` and `direct`", "one-repeatable---upstream-with-_default-and-direct")]
    [InlineData("See [the CLI](cli.md) here", "see-the-cli-here")]
    public void Anchors_are_made_from_headings_as_github_makes_them(string heading, string anchor) =>
        Assert.Equal(anchor, MarkdownPage.Slug(heading));

    private static string? Resolve(MarkdownPage page, string target, Dictionary<string, MarkdownPage> pages)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var pathPart = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var path = pathPart.Length == 0 ? page.Path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page.Path)!, pathPart));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return "points outside the repository";
        }
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return "no such file";
        }
        if (anchor is null)
        {
            return null;
        }
        if (!path.EndsWith(".md", StringComparison.Ordinal))
        {
            return "an anchor into a file that is not Markdown";
        }
        if (!pages.TryGetValue(path, out var linked))
        {
            linked = pages[path] = MarkdownPage.Read(path);
        }
        return linked.Anchors.Contains(anchor) ? null : $"no heading #{anchor} in {Relative(path)}";
    }

    private static IEnumerable<MarkdownPage> DocumentationPages() =>
        new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "perf"), "*.md", SearchOption.TopDirectoryOnly))
            .Select(MarkdownPage.Read);

    private static IEnumerable<string> SourceFiles() =>
        new[] { "src", "perf", "tools", "charts" }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(Root, folder), "*", SearchOption.AllDirectories))
            .Where(file => !IsBuildOutput(file))
            .Where(file => Path.GetExtension(file) is ".cs" or ".csproj" or ".yaml" or ".json" or ".tpl" or "" );

    private static bool IsBuildOutput(string file)
    {
        var parts = Path.GetRelativePath(Root, file).Split(Path.DirectorySeparatorChar);
        return parts.Contains("bin") || parts.Contains("obj");
    }

    private static string Relative(string path) => Path.GetRelativePath(Root, path);

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();

    // docs/prefetch.md, perf/RESULTS.md#corked-sends-tcp_cork: a page of the repository named in code or in the chart.
    [GeneratedRegex(@"\b((?:docs|perf)/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)(?:#([a-z0-9_-]+))?")]
    private static partial Regex Citation();
}
