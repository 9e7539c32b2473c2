using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NodeCache.Agent.Tests.Docs;

/// <summary>
/// One Markdown file of the repository as a reader's renderer sees it: its headings' anchors (GitHub's rule) and the
/// links and images in its prose. Fenced code blocks and inline code are not prose: a link-like text there is not a link.
/// </summary>
internal sealed partial class MarkdownPage
{
    private MarkdownPage(string path, IReadOnlyList<string> lines)
    {
        Path = path;
        Lines = lines;
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var links = new List<MarkdownLink>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var inFence = false;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }
            if (inFence)
            {
                continue;
            }
            var heading = Heading().Match(line);
            if (heading.Success)
            {
                var slug = Slug(heading.Groups[1].Value);
                // GitHub numbers repeated headings: the second "Pins" is #pins-1.
                var count = seen.GetValueOrDefault(slug);
                seen[slug] = count + 1;
                anchors.Add(count == 0 ? slug : $"{slug}-{count}");
            }
            foreach (Match link in Link().Matches(InlineCode().Replace(line, "")))
            {
                links.Add(new MarkdownLink(i + 1, link.Groups[1].Value));
            }
        }
        Anchors = anchors;
        Links = links;
    }

    public string Path { get; }

    public IReadOnlyList<string> Lines { get; }

    /// <summary>The fragment of every heading, as <c>#fragment</c> reaches it.</summary>
    public IReadOnlySet<string> Anchors { get; }

    public IReadOnlyList<MarkdownLink> Links { get; }

    public static MarkdownPage Read(string path) => new(path, File.ReadAllLines(path));

    /// <summary>GitHub's heading anchor: lower case, markup and punctuation dropped (hyphens and underscores kept), spaces to hyphens.</summary>
    public static string Slug(string heading)
    {
        var text = MarkupLink().Replace(heading.Trim(), "$1");
        var slug = new StringBuilder(text.Length);
        foreach (var c in text.ToLower(CultureInfo.InvariantCulture))
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }
        return slug.ToString();
    }

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    // [text](target) and ![alt](target); the target ends at the first space (a title may follow) or parenthesis.
    [GeneratedRegex(@"!?\[[^\]]*\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex MarkupLink();
}

/// <summary>A link's target as written, and the line it is on.</summary>
internal sealed record MarkdownLink(int Line, string Target);
