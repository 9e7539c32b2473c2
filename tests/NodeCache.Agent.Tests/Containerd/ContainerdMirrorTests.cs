using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Containerd;

/// <summary>Real containerd pulling <c>harbor.test/...</c> through a hosts.toml that lists the agent first and the registry as server.</summary>
public sealed class ContainerdMirrorTests(ContainerdFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerdFixture>
{
    private const string Harbor = "harbor.test";

    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public async Task A_cold_pull_fetches_each_blob_once_and_a_pull_after_removal_fetches_none()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 201);
        var image = await builder.BuildAsync("library/app", "1", [200 * OciImageBuilder.MiB, 8 * OciImageBuilder.MiB, 512 * OciImageBuilder.KiB, 4 * OciImageBuilder.KiB], filesPerLayer: 2);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, registry.BaseUri));
        Containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));
        var reference = image.Reference(Harbor);

        var cold = await Containerd.PullAsync(reference);
        foreach (var blob in image.Blobs)
        {
            Assert.Equal(1, await registry.CountBlobGetsAsync(blob.Digest));
        }
        await Containerd.RemoveImageAsync(reference);
        Assert.Empty(await Containerd.ContentDigestsAsync());
        var blobGetsBefore = await registry.CountBlobGetsAsync();

        var warm = await Containerd.PullAsync(reference);

        Assert.Equal(blobGetsBefore, await registry.CountBlobGetsAsync());
        Assert.Contains(image.Layers[0].Digest.ToString(), await Containerd.ContentDigestsAsync());
        var metrics = await ScrapeAsync(agent);
        Assert.Contains("nodecache_requests_total{otel_scope_name=\"NodeCache\",kind=\"blob\",result=\"hit\"}", metrics, StringComparison.Ordinal);
        await Containerd.RemoveImageAsync(reference);

        // Figures for the record, not assertions: this machine is shared and noisy.
        const string direct = "direct.harbor.test";
        Containerd.WriteHosts(direct, registry.BaseUri.ToString().TrimEnd('/'));
        var straight = await Containerd.PullAsync(image.Reference(direct));
        await Containerd.RemoveImageAsync(image.Reference(direct));
        output.WriteLine($"pull of {image.Blobs.Sum(b => b.Size) / OciImageBuilder.MiB} MiB: direct {straight.TotalMilliseconds:F0} ms, through the agent cold {cold.TotalMilliseconds:F0} ms, warm {warm.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_cri_pull_as_the_kubelet_makes_it_is_served_from_the_cache_the_second_time()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 202);
        var image = await builder.BuildAsync("team/service", "v2", [2 * OciImageBuilder.MiB, 64 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, registry.BaseUri));
        Containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));
        var reference = image.Reference(Harbor);

        Assert.Equal(image.Config.Digest.ToString(), await Containerd.CriPullAsync(reference));
        await Containerd.CriRemoveAsync(reference);
        var blobGetsBefore = await registry.CountBlobGetsAsync();
        Assert.Equal(image.Blobs.Count, blobGetsBefore);

        Assert.Equal(image.Config.Digest.ToString(), await Containerd.CriPullAsync(reference));

        Assert.Equal(blobGetsBefore, await registry.CountBlobGetsAsync());
        await Containerd.CriRemoveAsync(reference);
    }

    [Fact]
    public async Task A_multi_arch_pull_on_arm64_fetches_only_the_arm64_blobs_through_the_agent()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var builder = new OciImageBuilder(seed: 203);
        var index = await builder.BuildIndexAsync("library/multi", "1", [256 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(index);
        await using var agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, registry.BaseUri));
        Containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));

        await Containerd.PullAsync(index.Reference(Harbor), platform: "linux/arm64");
        await Containerd.RemoveImageAsync(index.Reference(Harbor));

        Assert.Equal(1, await registry.CountBlobGetsAsync(index.ForArchitecture("arm64").Layers[0].Digest));
        Assert.Equal(0, await registry.CountBlobGetsAsync(index.ForArchitecture("amd64").Layers[0].Digest));
        Assert.True(File.Exists(Path.Combine(agent.CacheDir, "blobs", "sha256", index.ForArchitecture("arm64").Layers[0].Digest.Hex)));
    }

    [Fact]
    public async Task A_private_image_is_pulled_with_the_agents_robot_account_and_one_token_per_scope()
    {
        var policy = new AccessPolicy()
            .WithUser("robot$nodecache", "robot-secret").Grant("robot$nodecache", "private/*", RepositoryAccess.Pull);
        await using var tokens = await TokenServer.StartAsync(policy);
        await using var registry = await RegistryProcess.StartAsync(tokens);
        using var builder = new OciImageBuilder(seed: 204);
        var image = await builder.BuildAsync("private/app", "1", [1 * OciImageBuilder.MiB, 32 * OciImageBuilder.KiB]);
        await OciPusher.For(registry).PushAsync(image);
        using var secrets = TempFolder.Create("robot");
        var credentials = secrets.Combine("credentials");
        await File.WriteAllTextAsync(credentials, "robot$nodecache:robot-secret\n");
        await using var agent = await AgentProcess.StartAsync([.. AgentProcess.Upstream(Harbor, registry.BaseUri), "--credentials", $"{registry.HostPort}={credentials}"]);
        Containerd.WriteHosts(Harbor, registry.BaseUri.ToString().TrimEnd('/'), agent.BaseUri.ToString().TrimEnd('/'));
        var scope = "repository:private/app:pull";
        var tokenRequestsBefore = tokens.CountRequests(scope);

        await Containerd.PullAsync(image.Reference(Harbor));
        await Containerd.RemoveImageAsync(image.Reference(Harbor));

        foreach (var blob in image.Blobs)
        {
            Assert.Equal(1, await registry.CountBlobGetsAsync(blob.Digest));
        }
        Assert.Equal(1, tokens.CountRequests(scope, "robot$nodecache") - tokenRequestsBefore);
        Assert.DoesNotContain("robot-secret", agent.Output.Text(), StringComparison.Ordinal);
    }

    private static async Task<string> ScrapeAsync(AgentProcess agent)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(agent.BaseUri, "/metrics"));
    }
}
