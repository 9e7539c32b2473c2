using NodeCache.Agent.Configuration;

namespace NodeCache.Agent.Hosting;

/// <summary>
/// The token fills stop on. Not ApplicationStopping itself: on SIGTERM the responses in flight get the shutdown timeout
/// to finish, and the fills they follow must keep running for them; a fill is cut only shortly before the timeout ends,
/// so the agent still exits (and checkpoints) within the DaemonSet's grace period.
/// </summary>
internal sealed class ShutdownDrain : IDisposable
{
    // What the host needs after the fills end: the final checkpoint and disposal.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _fillsEnd = new();
    private readonly CancellationTokenRegistration _registration;

    public ShutdownDrain(IHostApplicationLifetime lifetime, AgentOptions options)
    {
        var drain = options.ShutdownTimeout > Margin ? options.ShutdownTimeout - Margin : TimeSpan.Zero;
        _registration = lifetime.ApplicationStopping.Register(() => _fillsEnd.CancelAfter(drain));
    }

    public CancellationToken Token => _fillsEnd.Token;

    public void Dispose()
    {
        _registration.Dispose();
        _fillsEnd.Dispose();
    }
}
