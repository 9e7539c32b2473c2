using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Control;

/// <summary>A distribution registry standing in for Harbor and one agent mirroring it as <c>harbor.test</c>, shared by a test class.</summary>
public sealed class ControlFixture : IAsyncLifetime
{
    public const string Harbor = "harbor.test";

    private readonly OciImageBuilder _builder = new(seed: 901);

    internal RegistryProcess Registry { get; private set; } = null!;

    internal AgentProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Registry = await RegistryProcess.StartAsync();
        Agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, Registry.BaseUri));
    }

    /// <summary>Builds an image with layers of the given sizes and pushes it to the registry.</summary>
    internal async Task<BuiltImage> PushImageAsync(string repository, string tag, params long[] layerSizes)
    {
        var image = await _builder.BuildAsync(repository, tag, layerSizes);
        await OciPusher.For(Registry).PushAsync(image);
        return image;
    }

    internal async Task<BuiltIndex> PushIndexAsync(string repository, string tag, params long[] layerSizes)
    {
        var index = await _builder.BuildIndexAsync(repository, tag, layerSizes);
        await OciPusher.For(Registry).PushAsync(index);
        return index;
    }

    public async Task DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }
        _builder.Dispose();
    }
}
