using NodeCache.Testing.Prometheus;

namespace NodeCache.Agent.Tests.Charts;

/// <summary>Real containerd pulls through a real agent, scraped by a real Prometheus, once for the tests of a class.</summary>
public sealed class ScrapedPullsFixture : IAsyncLifetime
{
    private ScrapedPulls? _pulls;

    internal ScrapedPulls Pulls => _pulls ?? throw new InvalidOperationException("the pulls have not run");

    public async Task InitializeAsync() => _pulls = await ScrapedPulls.RunAsync(TimeSpan.FromSeconds(2));

    public async Task DisposeAsync()
    {
        if (_pulls is not null)
        {
            await _pulls.DisposeAsync();
        }
    }
}
