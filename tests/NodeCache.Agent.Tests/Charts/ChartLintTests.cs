using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Charts;

/// <summary><c>helm lint charts/nodecache</c> with the real helm: the chart is valid, and values.schema.json refuses bad values.</summary>
public sealed class ChartLintTests : IDisposable
{
    private readonly TempFolder _folder = TempFolder.Create("chart-lint");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_chart_lints_clean_with_its_default_values()
    {
        var run = await LintAsync();

        AssertClean(run);
    }

    [Fact]
    public async Task The_chart_lints_clean_with_every_option_set()
    {
        var run = await LintAsync("--values", ChartValues.Write(_folder, ChartValues.EveryOption));

        AssertClean(run);
    }

    [Fact]
    public async Task The_chart_lints_clean_in_strict_mode_so_it_has_no_warnings()
    {
        var run = await LintAsync("--strict", "--values", ChartValues.Write(_folder, ChartValues.EveryOption));

        AssertClean(run);
        Assert.DoesNotContain("[WARNING]", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cacheSize: lots", "cacheSize")]
    [InlineData("cacheSize: 120%", "cacheSize")]
    [InlineData("updateStrategy: {maxUnavailable: -1}", "maxUnavailable")]
    [InlineData("updateStrategy: {maxUnavailable: 0}", "maxUnavailable")]
    [InlineData("tagTtl: soon", "tagTtl")]
    [InlineData("manifestRevalidate: never", "manifestRevalidate")]
    [InlineData("connectTimeout: 2 seconds", "connectTimeout")]
    [InlineData("logLevel: loud", "logLevel")]
    [InlineData("listen: [nowhere]", "listen")]
    [InlineData("listen: []", "listen")]
    [InlineData("dnsPolicy: HostNetwork", "dnsPolicy")]
    [InlineData("image: {repository: r, pullPolicy: Sometimes}", "pullPolicy")]
    [InlineData("upstreams: [{registry: docker.io, urls: []}]", "urls")]
    [InlineData("upstreams: [{registry: docker.io, urls: ['https://user:secret@harbor.example/proxy']}]", "urls")]
    [InlineData("upstreams: [{registry: docker.io, urls: ['ftp://harbor.example']}]", "urls")]
    [InlineData("upstreams: [{registry: 'https://docker.io', urls: [direct]}]", "registry")]
    [InlineData("harbor: {existingSecret: harbor-robot}", "harbor")]
    [InlineData("caBundle: {existingSecret: ca, existingConfigMap: ca}", "caBundle")]
    [InlineData("securityContext: {runAsNonRoot: true}", "securityContext")]
    [InlineData("cachesize: 10GiB", "cachesize")]
    [InlineData("prefetch: {privateImages: sometimes}", "privateImages")]
    [InlineData("prefetch: {concurrency: 0}", "concurrency")]
    [InlineData("prefetch: {bandwidth: fast}", "bandwidth")]
    [InlineData("control: {socket: run/control.sock}", "socket")]
    [InlineData("control: {socket: /run/nodecache/, listen: ''}", "socket")]
    [InlineData("containerdHosts: {registries: ['https://docker.io']}", "registries")]
    [InlineData("containerdHosts: {registries: ['docker.io=registry-1.docker.io']}", "registries")]
    [InlineData("metrics: {listen: 'node:9405'}", "listen")]
    [InlineData("eviction: {highWatermark: 120%}", "highWatermark")]
    [InlineData("eviction: {lowWatermark: 0.8}", "lowWatermark")]
    [InlineData("scrub: {rate: fast}", "rate")]
    [InlineData("diskReserve: 10%", "diskReserve")]
    [InlineData("shutdownTimeoutSeconds: 0", "shutdownTimeoutSeconds")]
    public async Task Lint_fails_when_a_value_breaks_the_schema_naming_the_value(string values, string named)
    {
        var run = await LintAsync("--values", ChartValues.Write(_folder, values));

        Assert.False(run.Succeeded, $"helm lint passed with '{values}':\n{run.Stdout}");
        var errors = run.Stdout.Split('\n').Where(line => line.StartsWith("[ERROR]", StringComparison.Ordinal)).ToList();
        Assert.Contains(errors, line => line.Contains("values.yaml", StringComparison.Ordinal));
        Assert.Contains(named, run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("terminationGracePeriodSeconds: 25")]
    [InlineData("{shutdownTimeoutSeconds: 60, terminationGracePeriodSeconds: 45}")]
    public async Task Rendering_fails_when_the_grace_period_does_not_exceed_the_shutdown_timeout(string values)
    {
        var run = await Helm.RunAsync(["template", "nodecache", Helm.Chart("nodecache"), "--values", ChartValues.Write(_folder, values)]);

        Assert.False(run.Succeeded, $"helm template passed with '{values}'");
        Assert.Contains("terminationGracePeriodSeconds must exceed shutdownTimeoutSeconds", run.Stderr, StringComparison.Ordinal);
    }

    private static Task<ToolRun> LintAsync(params string[] arguments) => Helm.RunAsync(["lint", Helm.Chart("nodecache"), .. arguments]);

    private static void AssertClean(ToolRun run)
    {
        Assert.True(run.Succeeded, $"helm lint failed:\n{run.Stdout}\n{run.Stderr}");
        Assert.DoesNotContain("[ERROR]", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 chart(s) linted, 0 chart(s) failed", run.Stdout, StringComparison.Ordinal);
    }
}
