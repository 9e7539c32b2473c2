using NodeCache.Agent.Tests.Charts;
using NodeCache.Testing;
using NodeCache.Testing.Images;

namespace NodeCache.Agent.Tests.Shipping;

/// <summary>
/// The image built once for a test class from the repository's Dockerfile onto the local bases, imported into a real
/// containerd both as built and as the chart runs it (its config's user set to the agent container's runAsUser and
/// runAsGroup, which the kubelet applies and ctr 1.6 cannot).
/// </summary>
public sealed class ImageFixture : IAsyncLifetime
{
    /// <summary>The tag that runs as the chart's containers' user.</summary>
    public const string ChartUserTag = "chart-user";

    private NodeCacheImage? _image;
    private ContainerdProcess? _containerd;

    internal NodeCacheImage Image => _image ?? throw new InvalidOperationException("the image has not been built");

    internal ContainerdProcess Containerd => _containerd ?? throw new InvalidOperationException("containerd has not started");

    /// <summary>The image as the chart runs it, by its name in containerd.</summary>
    internal static string ChartUserImage => $"{NodeCacheImage.Repository}:{ChartUserTag}";

    public async Task InitializeAsync()
    {
        _image = await NodeCacheImage.BuildAsync();
        var chart = await RenderedChart.RenderAsync();
        var user = DaemonSetContainer.User(chart, "agent");
        Assert.Equal(user, DaemonSetContainer.User(chart, "containerd-hosts"));
        await _image.RetagWithUserAsync(ChartUserTag, user);
        _containerd = await ContainerdProcess.StartAsync();
        await _containerd.ImportAsync(await _image.ArchiveAsync(), NodeCacheImage.Repository);
    }

    public async Task DisposeAsync()
    {
        if (_containerd is not null)
        {
            await _containerd.DisposeAsync();
        }
        _image?.Dispose();
    }
}
