using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Support;

/// <summary>A real registry holding a few pushed images, behind a <see cref="FaultProxy"/> that can deny them as Harbor's policies do.</summary>
internal sealed class PolicyUpstream : IAsyncDisposable
{
    private readonly OciImageBuilder _builder;

    private PolicyUpstream(OciImageBuilder builder, RegistryProcess registry, FaultProxy proxy, IReadOnlyList<BuiltImage> images)
    {
        _builder = builder;
        Registry = registry;
        Proxy = proxy;
        Images = images;
    }

    public RegistryProcess Registry { get; }

    public FaultProxy Proxy { get; }

    /// <summary>Images <c>team/app-N:1</c>, each with two small layers of its own.</summary>
    public IReadOnlyList<BuiltImage> Images { get; }

    public static async Task<PolicyUpstream> StartAsync(int seed, int images)
    {
        var builder = new OciImageBuilder(seed);
        var registry = await RegistryProcess.StartAsync();
        try
        {
            var built = new List<BuiltImage>();
            for (var i = 0; i < images; i++)
            {
                var image = await builder.BuildAsync($"team/app-{i}", "1", [64 * OciImageBuilder.KiB, 4 * OciImageBuilder.KiB]);
                await OciPusher.For(registry).PushAsync(image);
                built.Add(image);
            }
            var proxy = await FaultProxy.StartAsync(registry.BaseUri);
            return new PolicyUpstream(builder, registry, proxy, built);
        }
        catch
        {
            await registry.DisposeAsync();
            builder.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Registry.DisposeAsync();
        _builder.Dispose();
    }
}
