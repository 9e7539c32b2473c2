using Grpc.Core;
using NodeCache.Control.V1;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary>
/// An import as it runs: the upload and the agent's answers side by side (the agent reads the archive while it arrives),
/// shown as live bars on a terminal (bytes sent, then the agent's stage), as one line per stage in a log, or not at all for JSON.
/// </summary>
internal sealed class ImportView(IAnsiConsole? terminal, long? size, bool quiet)
{
    /// <summary>Runs <paramref name="upload"/> while reading the agent's events; a failed upload (the file cannot be read) ends the import at once.</summary>
    public async Task<ImportResult> RunAsync(Func<IProgress<long>, Task> upload, IAsyncStreamReader<ImportEvent> events, CancellationToken cancellationToken)
    {
        if (terminal is null)
        {
            var lastStage = "";
            return await BothAsync(upload(new Progress<long>()), events, step =>
            {
                // In a log, one line as each stage begins; its counts are in the summary.
                if (!quiet && step.Stage != lastStage)
                {
                    Console.WriteLine($"agent: {step.Stage}");
                }
                lastStage = step.Stage;
            }, cancellationToken).ConfigureAwait(false);
        }
        ImportResult? result = null;
        await terminal.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var sending = context.AddTask("sending", maxValue: Math.Max(size ?? 1, 1));
                sending.IsIndeterminate = size is null;
                var agent = context.AddTask("agent: waiting", maxValue: 1);
                agent.IsIndeterminate = true;
                result = await BothAsync(upload(new Progress<long>(bytes => sending.Value = bytes)), events, step =>
                {
                    agent.Description = Markup.Escape(Describe(step));
                    agent.MaxValue = Math.Max(step.Bytes, 1);
                    agent.Value = step.Bytes;
                }, cancellationToken).ConfigureAwait(false);
                sending.Value = sending.MaxValue;
                sending.StopTask();
                agent.Description = "agent: done";
                agent.IsIndeterminate = false;
                agent.Value = agent.MaxValue;
                agent.StopTask();
            }).ConfigureAwait(false);
        return result!;
    }

    private static string Describe(ImportProgress step) => step.Stage switch
    {
        "reading" => $"agent: reading the archive, {step.Files} files, {ByteSize.Format(step.Bytes)}",
        "committing" => $"agent: committing, {step.Files} blobs, {ByteSize.Format(step.Bytes)}",
        _ => $"agent: {step.Stage}",
    };

    private static async Task<ImportResult> BothAsync(Task uploading, IAsyncStreamReader<ImportEvent> events, Action<ImportProgress> onProgress, CancellationToken cancellationToken)
    {
        var receiving = ReceiveAsync(events, onProgress, cancellationToken);
        if (await Task.WhenAny(uploading, receiving).ConfigureAwait(false) == uploading && uploading.IsFaulted)
        {
            // Leaving cancels the call, and the agent discards what it received.
            await uploading.ConfigureAwait(false);
        }
        var result = await receiving.ConfigureAwait(false);
        await uploading.ConfigureAwait(false);
        return result;
    }

    private static async Task<ImportResult> ReceiveAsync(IAsyncStreamReader<ImportEvent> events, Action<ImportProgress> onProgress, CancellationToken cancellationToken)
    {
        ImportResult? result = null;
        await foreach (var step in events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (step.EventCase)
            {
                case ImportEvent.EventOneofCase.Progress:
                    onProgress(step.Progress);
                    break;
                case ImportEvent.EventOneofCase.Result:
                    result = step.Result;
                    break;
            }
        }
        return result ?? throw new CliFailure(ExitCode.Failed, "the agent ended the import without a result");
    }
}
