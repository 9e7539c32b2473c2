namespace NodeCache.Agent.Control;

/// <summary>
/// Sets the control socket to 0660 once Kestrel has created it: the owner and the group given access (an operator's
/// group, or the node's admin tooling) may prewarm and evict; nobody else on the node may connect.
/// </summary>
internal sealed class ControlSocketPermissions(string socket, IHostApplicationLifetime lifetime, ILogger<ControlSocketPermissions> logger) : IHostedService
{
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            if (OperatingSystem.IsWindows())
            {
                return;
            }
            try
            {
                File.SetUnixFileMode(socket, Mode);
                logger.LogInformation("Control API on unix:{Socket}", socket);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogError("Could not restrict the control socket {Socket} to mode 0660: {Reason}", socket, ex.Message);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
