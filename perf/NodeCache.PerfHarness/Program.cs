using NodeCache.PerfHarness;

var settings = HarnessSettings.Parse(args);
if (settings is null)
{
    Console.Error.WriteLine(HarnessSettings.Usage);
    return 2;
}
using var stop = new CancellationTokenSource(settings.Deadline);
// Ctrl+C cancels instead of killing the process, so every peer is stopped by its PID and every temp folder removed.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
return await HarnessRun.RunAsync(settings, stop.Token);
