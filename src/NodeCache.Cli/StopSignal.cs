using System.Runtime.InteropServices;

namespace NodeCache.Cli;

/// <summary>
/// SIGTERM and SIGINT for the whole process, handled from before any command runs. The first one cancels
/// <see cref="Token"/>, which every command observes, so the command ends on its own terms: <c>containerd hosts
/// --until-stopped</c> puts back the files it replaced. A second one is left to the runtime's default action and ends the
/// process at once, for a command stuck where it cannot see the token (opening a FIFO no one writes to).
/// </summary>
/// <remarks>
/// System.CommandLine's own handling is turned off in its favour: version 3.0 answers a signal that arrives while a command
/// is still in its synchronous start (before its first await) with exit code 143 at once, without waiting for the command.
/// A stop right after <c>containerd hosts --until-stopped</c> printed the files it wrote left them in place that way.
/// </remarks>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _stopped = new();
    private readonly PosixSignalRegistration _terminate;
    private readonly PosixSignalRegistration _interrupt;
    private int _signals;

    public StopSignal()
    {
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _stopped.Token;

    public void Dispose()
    {
        _terminate.Dispose();
        _interrupt.Dispose();
        _stopped.Dispose();
    }

    private void Stop(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1)
        {
            // Not cancelled: the runtime ends the process as the signal's default action would (exit code 128 + signal).
            return;
        }
        context.Cancel = true;
        try
        {
            _stopped.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command had finished already: nothing is left to stop.
        }
    }
}
