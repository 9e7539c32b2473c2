using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Perf;

/// <summary>
/// The BenchmarkDotNet benchmarks under <c>perf/</c> still run: the benchmark program's <c>--check</c> job runs each one
/// once, in its own process, and exits non-zero when one fails. Their figures come from the full job, not from here.
/// </summary>
public sealed class BenchmarkCheckTests
{
    private static readonly string Program = BuildOutput.AssemblyPath("perf/NodeCache.Benchmarks", "NodeCache.Benchmarks");

    [Fact]
    public async Task Every_benchmark_runs_once_without_an_error()
    {
        var run = await BuildOutput.RunAsync(Program, ["--filter", "*", "--check"], TimeSpan.FromMinutes(10));

        Assert.True(run.Succeeded, run.Stdout.Length > 8000 ? run.Stdout[^8000..] : run.Stdout);
        var classes = Directory.GetFiles(Path.Combine(Helm.RepositoryRoot, "perf", "NodeCache.Benchmarks"), "*.cs")
            .Where(file => File.ReadAllText(file).Contains("[Benchmark", StringComparison.Ordinal))
            .Select(Path.GetFileNameWithoutExtension)
            .ToList();
        Assert.NotEmpty(classes);
        foreach (var benchmarks in classes)
        {
            Assert.Contains($"// Benchmark: {benchmarks}.", run.Stdout, StringComparison.Ordinal);
        }
    }
}
