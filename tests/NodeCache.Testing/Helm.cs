namespace NodeCache.Testing;

/// <summary>
/// The real <c>helm</c> binary, for the chart tests: <c>&lt;repo&gt;/.tools/helm/helm</c> as tests/run installs it,
/// else the first on PATH. A missing helm fails the test with the way to get it: a chart test that skipped would
/// let a chart that does not render pass CI unnoticed.
/// </summary>
public static class Helm
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private static readonly Lazy<string> Located = new(Locate);

    /// <summary>The folder holding NodeCache.sln, found upwards from the test assembly.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The helm binary; throws with the way to install it when there is none.</summary>
    public static string BinaryPath => Located.Value;

    /// <summary>A chart of this repository, <c>charts/&lt;name&gt;</c>.</summary>
    public static string Chart(string name) => Path.Combine(RepositoryRoot, "charts", name);

    /// <summary>One run of helm to completion; its exit code is the caller's to judge.</summary>
    public static Task<ToolRun> RunAsync(params string[] arguments) => ToolRun.RunAsync(BinaryPath, arguments, Timeout);

    private static string Locate()
    {
        var installed = Path.Combine(RepositoryRoot, ".tools", "helm", "helm");
        if (File.Exists(installed))
        {
            return installed;
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var folder in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "helm");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("helm not found: run tests/run, which installs it");
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "NodeCache.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"no NodeCache.sln above {AppContext.BaseDirectory}: the tests run from the repository's build output");
    }
}
