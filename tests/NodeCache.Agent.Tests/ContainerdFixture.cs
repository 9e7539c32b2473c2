using NodeCache.Testing;

namespace NodeCache.Agent.Tests;

/// <summary>One containerd for a test class (<c>IClassFixture&lt;ContainerdFixture&gt;</c>): its tests run one after another, so they can share it; other classes get their own.</summary>
public sealed class ContainerdFixture : IAsyncLifetime
{
    private ContainerdProcess? _containerd;

    internal ContainerdProcess Containerd => _containerd ?? throw new InvalidOperationException("containerd has not started");

    public async Task InitializeAsync() => _containerd = await ContainerdProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_containerd is not null)
        {
            await _containerd.DisposeAsync();
        }
    }
}
