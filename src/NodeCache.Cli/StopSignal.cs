using System.Runtime.InteropServices;

namespace NodeCache.Cli;

/// <summary>
/// SIGTERM or SIGINT as a cancellation, handled from the moment this is created. The command-line library's own handler
/// may not be registered yet when a command's action begins, and a SIGTERM that finds no handler ends the process with 143
/// before it can undo anything: a command that must undo its work on a stop creates this before it does the work.
/// </summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _stopped;
    private readonly PosixSignalRegistration _terminate;
    private readonly PosixSignalRegistration _interrupt;

    public StopSignal(CancellationToken cancellationToken)
    {
        _stopped = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    }

    /// <summary>Cancelled by the first signal (or by the caller's token).</summary>
    public CancellationToken Token => _stopped.Token;

    public void Dispose()
    {
        _terminate.Dispose();
        _interrupt.Dispose();
        _stopped.Dispose();
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        try
        {
            _stopped.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command has finished already: nothing is left to stop.
        }
    }
}
