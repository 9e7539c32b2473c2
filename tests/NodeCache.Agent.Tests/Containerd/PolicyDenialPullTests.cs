using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Containerd;

/// <summary>Real containerd pulling through the agent from a registry that starts refusing an image, as Harbor's project policies do.</summary>
public sealed class PolicyDenialPullTests(ContainerdFixture fixture) : IClassFixture<ContainerdFixture>
{
    private const string Harbor = "harbor.test";
    private const string PolicyMessage = "current image with 1 vulnerabilities cannot be pulled due to configured policy";
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    private ContainerdProcess Containerd => fixture.Containerd;

    [Fact]
    public async Task An_image_blocked_after_it_was_cached_stops_being_served_within_the_window_and_the_pull_fails_with_the_registry_message()
    {
        await using var upstream = await PolicyUpstream.StartAsync(seed: 521, images: 1);
        var image = upstream.Images[0];
        await using var agent = await AgentProcess.StartAsync(
            [.. AgentProcess.Upstream(Harbor, upstream.Proxy.BaseUri), "--manifest-revalidate", "2s", "--connect-timeout", "1s"]);
        // The server is a dead port: whatever containerd reports comes from the agent, its first host.
        Containerd.WriteHosts(Harbor, $"http://127.0.0.1:{LoopbackPort.Next()}", agent.BaseUri.ToString().TrimEnd('/'));
        var reference = image.DigestReference(Harbor);
        await Containerd.CriPullAsync(reference);
        await Containerd.CriRemoveAsync(reference);

        upstream.Proxy.DenyManifest(image.ManifestDigest, PolicyMessage);
        await Task.Delay(Window);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Containerd.CriPullAsync(reference));
        Assert.Contains("412 Precondition Failed: PROJECTPOLICYVIOLATION: " + PolicyMessage, failure.Message, StringComparison.Ordinal);

        upstream.Proxy.AllowManifest(image.ManifestDigest);

        Assert.Equal(image.Config.Digest.ToString(), await Containerd.CriPullAsync(reference));
        await Containerd.CriRemoveAsync(reference);

        await upstream.Proxy.DisposeAsync();
        await Task.Delay(Window);

        Assert.Equal(image.Config.Digest.ToString(), await Containerd.CriPullAsync(reference));
        await Containerd.CriRemoveAsync(reference);
    }
}
