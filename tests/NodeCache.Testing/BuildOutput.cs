namespace NodeCache.Testing;

/// <summary>Where another project of the solution lands when built in the configuration and framework the tests were built in.</summary>
public static class BuildOutput
{
    /// <summary><c>&lt;project&gt;/bin/&lt;configuration&gt;/&lt;framework&gt;/&lt;assembly&gt;.dll</c>, with <paramref name="project"/> relative to the repository root.</summary>
    public static string AssemblyPath(string project, string assemblyName)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent!.Name;
        return Path.Combine(Helm.RepositoryRoot, project, "bin", configuration, framework, assemblyName + ".dll");
    }

    /// <summary>Runs a built program of the solution to completion on the dotnet host running the tests.</summary>
    public static Task<ToolRun> RunAsync(string assemblyPath, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(assemblyPath))
        {
            throw new InvalidOperationException($"{assemblyPath} not found: build the solution (tests/run does)");
        }
        return ToolRun.RunAsync(AgentProcess.DotnetHost(), ["exec", assemblyPath, .. arguments], timeout, cancellationToken);
    }
}
