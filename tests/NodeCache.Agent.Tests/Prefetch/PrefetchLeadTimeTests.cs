using System.Globalization;
using System.Text.RegularExpressions;
using NodeCache.Testing;
using NodeCache.Testing.Kubernetes;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Prefetch;

/// <summary>
/// Pods created and bound the way a scheduler does, then pulled by real containerd with the kubelet's CRI call after a
/// delay: the agent measures how far ahead of each pull the prefetch was.
/// </summary>
public sealed partial class PrefetchLeadTimeTests(ContainerdFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerdFixture>
{
    [Fact]
    public async Task Lead_time_of_each_prefetch_is_measured_against_the_kubelets_first_request()
    {
        await using var scenario = await PrefetchScenario.StartAsync(seed: 310);
        var containerd = fixture.Containerd;
        containerd.WriteHosts(PrefetchScenario.Namespace, scenario.Registry.BaseUri.ToString().TrimEnd('/'), scenario.Agent.BaseUri.ToString().TrimEnd('/'));
        // The kubelet's pull follows the binding after the sandbox is set up: from at once to a couple of seconds.
        TimeSpan[] kubeletDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];
        var figures = new List<string>();
        for (var i = 0; i < kubeletDelays.Length; i++)
        {
            var image = await scenario.PushImageAsync($"team/lead{i}", [4 * OciImageBuilder.MiB, 1 * OciImageBuilder.MiB]);
            var reference = image.Reference(PrefetchScenario.Namespace);
            var pod = $"lead{i}";
            scenario.Api.Apply(KubernetesObjects.Pod(pod, [reference]));
            scenario.Api.Update("pods", "default", pod, p => KubernetesObjects.Bind(p, PrefetchScenario.NodeName));
            await Task.Delay(kubeletDelays[i]);

            Assert.Equal(image.Config.Digest.ToString(), await containerd.CriPullAsync(reference));

            await scenario.WaitForLogAsync($"Prefetch lead time of {reference}", $"the lead time of {reference} is measured");
            var line = scenario.Agent.Output.Text().Split('\n').First(l => l.Contains($"Prefetch lead time of {reference}", StringComparison.Ordinal));
            var measured = LeadTimeLine().Match(line);
            figures.Add($"kubelet {kubeletDelays[i].TotalMilliseconds,5:F0} ms after binding: cached {measured.Groups["seconds"].Value} s {measured.Groups["side"].Value} its first request");
            Assert.Equal(1, await scenario.Registry.CountBlobGetsAsync(image.Layers[0].Digest));
            await containerd.CriRemoveAsync(reference);
        }

        var metrics = await scenario.MetricsAsync();
        var ahead = metrics.Value("nodecache_prefetch_lead_time_seconds_count", AgentMetrics.Labels(("outcome", "ahead")));
        var behind = metrics.Value("nodecache_prefetch_lead_time_seconds_count", AgentMetrics.Labels(("outcome", "behind")));
        Assert.Equal(kubeletDelays.Length, ahead + behind);
        Assert.Contains("nodecache_prefetch_queue_depth", metrics.Text, StringComparison.Ordinal);
        foreach (var figure in figures)
        {
            output.WriteLine(figure);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"nodecache_prefetch_lead_time_seconds: ahead {ahead} (sum {metrics.Value("nodecache_prefetch_lead_time_seconds_sum", AgentMetrics.Labels(("outcome", "ahead"))):F3} s), behind {behind} (sum {metrics.Value("nodecache_prefetch_lead_time_seconds_sum", AgentMetrics.Labels(("outcome", "behind"))):F3} s)"));
    }

    [GeneratedRegex(@"lead time of \S+: (?<seconds>[0-9.]+) s (?<side>before|after) the first request")]
    private static partial Regex LeadTimeLine();
}
