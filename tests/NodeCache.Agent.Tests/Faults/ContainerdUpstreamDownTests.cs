using System.Diagnostics;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>Real containerd pulling through the agent while the upstream (its mirror's source and its own fallback server) is down.</summary>
[Collection(FaultCollection.Name)]
public sealed class ContainerdUpstreamDownTests(FaultTable table, ITestOutputHelper output)
{
    private const string Harbor = "harbor.test";

    [Fact]
    public async Task With_the_upstream_down_containerd_still_pulls_a_cached_image_and_a_pull_of_an_uncached_one_fails_without_hanging()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        await using var registry = await RegistryProcess.StartAsync(cancellationToken: cancellationToken);
        using var builder = new OciImageBuilder(seed: 980);
        var cached = await builder.BuildAsync("library/cached", "1", [2 * OciImageBuilder.MiB, 256 * OciImageBuilder.KiB], cancellationToken: cancellationToken);
        var uncached = await builder.BuildAsync("library/uncached", "1", [256 * OciImageBuilder.KiB], cancellationToken: cancellationToken);
        await OciPusher.For(registry).PushAsync(cached, cancellationToken);
        await OciPusher.For(registry).PushAsync(uncached, cancellationToken);
        await using var proxy = await FaultProxy.StartAsync(registry.BaseUri, cancellationToken: cancellationToken);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, proxy.BaseUri), cancellationToken: cancellationToken);
        await using var containerd = await ContainerdProcess.StartAsync(cancellationToken: cancellationToken);
        // The upstream is containerd's own fallback too: when it is down, only the agent can answer.
        containerd.WriteHosts(Harbor, proxy.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));
        await containerd.PullAsync(cached.Reference(Harbor), cancellationToken: cancellationToken);
        await containerd.RemoveImageAsync(cached.Reference(Harbor), cancellationToken: cancellationToken);

        await proxy.GoDownAsync();
        var clock = Stopwatch.StartNew();
        var warm = await containerd.PullAsync(cached.Reference(Harbor), cancellationToken: cancellationToken);
        var pulled = (await containerd.ContentDigestsAsync(cancellationToken: cancellationToken)).Contains(cached.Layers[0].Digest.ToString());
        clock.Restart();
        Exception? failure = null;
        try
        {
            await containerd.PullAsync(uncached.Reference(Harbor), cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            failure = e;
        }
        var failedAfter = clock.Elapsed;

        table.Record(output, new FaultRow(
            "upstream down (and containerd's fallback server with it): ctr pull through the agent",
            "a cached image pulls; an uncached one fails promptly instead of hanging",
            $"cached image: pulled in {warm.TotalMilliseconds:F0} ms, layers in containerd: {(pulled ? "yes" : "no")}; uncached image: {(failure is null ? "pulled (unexpected)" : $"failed after {failedAfter.TotalSeconds:F1} s")}",
            pulled ? "none" : "the cached image could not be pulled"));
        Assert.True(pulled, agent.LogTail());
        Assert.NotNull(failure);
        Assert.True(failedAfter < TimeSpan.FromSeconds(30), $"the failing pull took {failedAfter}");
    }
}
