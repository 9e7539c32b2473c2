using System.CommandLine;
using Grpc.Core;
using NodeCache.Control.V1;
using NodeCache.Oci;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary><c>nodecache prewarm REF...</c>: fetch images into this node's cache, with a progress bar per blob and a summary.</summary>
internal static class PrewarmCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("image") { Description = "image references, e.g. harbor.example/team/app:1.2 or nginx@sha256:…", Arity = ArgumentArity.OneOrMore };
        var platform = new Option<string?>("--platform") { Description = "os/arch[/variant] to take from a multi-platform image (default: the node's)" };
        var pin = new Option<bool>("--pin") { Description = "keep the images out of eviction" };
        var command = new Command("prewarm", "Fetch images into this node's cache before they are pulled") { images, platform, pin };
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var references = parse.GetValue(images)!;
            foreach (var reference in references)
            {
                // Checked here too, so a typo fails before the agent is even asked.
                if (!ImageReference.TryParse(reference, out _, out var error))
                {
                    throw new CliFailure(ExitCode.BadReference, $"bad image reference '{reference}': {error}");
                }
            }
            var request = new PrewarmRequest { Platform = parse.GetValue(platform) ?? "", Pin = parse.GetValue(pin) };
            request.Images.AddRange(references);
            using var call = agent.Client.Prewarm(request, cancellationToken: cancellationToken);
            var done = parse.GetValue(CommonOptions.Output) == OutputFormat.Json
                ? await CollectAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false)
                : await ShowProgressAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(CommonOptions.Output) == OutputFormat.Json)
            {
                Console.WriteLine("[" + string.Join(",", done.Select(CommonOptions.Json)) + "]");
            }
            else
            {
                Summarize(done);
            }
            return Outcome(done);
        });
        return command;
    }

    private static async Task<List<ImageDone>> CollectAsync(IAsyncStreamReader<PrewarmEvent> events, CancellationToken cancellationToken)
    {
        var done = new List<ImageDone>();
        await foreach (var step in events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (step.EventCase == PrewarmEvent.EventOneofCase.Done)
            {
                done.Add(step.Done);
            }
        }
        return done;
    }

    // Without a terminal (a log, a pipe) bars cannot redraw: each blob gets one line when it is done instead.
    private static async Task<List<ImageDone>> ShowLinesAsync(IAsyncStreamReader<PrewarmEvent> events, CancellationToken cancellationToken)
    {
        var done = new List<ImageDone>();
        await foreach (var step in events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (step.EventCase)
            {
                case PrewarmEvent.EventOneofCase.Resolved:
                    Console.WriteLine(Resolved(step.Resolved));
                    break;
                case PrewarmEvent.EventOneofCase.Blob when step.Blob.State is BlobState.Cached or BlobState.Fetched or BlobState.Failed:
                    var blob = step.Blob;
                    Console.WriteLine($"  {Label(blob)} {ByteSize.Format(blob.BytesDone)} of {ByteSize.Format(blob.Size)}{(blob.State == BlobState.Failed ? ": " + blob.Error : "")}");
                    break;
                case PrewarmEvent.EventOneofCase.Done:
                    done.Add(step.Done);
                    break;
            }
        }
        return done;
    }

    private static string Resolved(ImageResolved resolved) =>
        $"{resolved.Image} is {resolved.Digest} ({resolved.Platform}): {resolved.Blobs} blobs, {ByteSize.Format(resolved.TotalBytes)}";

    private static async Task<List<ImageDone>> ShowProgressAsync(IAsyncStreamReader<PrewarmEvent> events, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await ShowLinesAsync(events, cancellationToken).ConfigureAwait(false);
        }
        var done = new List<ImageDone>();
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var bars = new Dictionary<(string Image, string Digest), ProgressTask>();
                await foreach (var step in events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    switch (step.EventCase)
                    {
                        case PrewarmEvent.EventOneofCase.Resolved:
                            var resolved = step.Resolved;
                            AnsiConsole.MarkupLine(Markup.Escape(Resolved(resolved)));
                            break;
                        case PrewarmEvent.EventOneofCase.Blob:
                            var blob = step.Blob;
                            if (!bars.TryGetValue((blob.Image, blob.Digest), out var bar))
                            {
                                bar = context.AddTask(Markup.Escape(Label(blob)), maxValue: Math.Max(blob.Size, 1));
                                bars[(blob.Image, blob.Digest)] = bar;
                            }
                            bar.Value = blob.BytesDone;
                            if (blob.State is BlobState.Cached or BlobState.Fetched or BlobState.Failed)
                            {
                                bar.Description = Markup.Escape(Label(blob));
                                bar.Value = blob.State == BlobState.Failed ? bar.Value : bar.MaxValue;
                                bar.StopTask();
                            }
                            break;
                        case PrewarmEvent.EventOneofCase.Done:
                            done.Add(step.Done);
                            break;
                    }
                }
            }).ConfigureAwait(false);
        return done;
    }

    private static string Label(BlobProgress blob)
    {
        var state = blob.State switch
        {
            BlobState.Cached => "cached",
            BlobState.Fetched => "fetched",
            BlobState.Failed => "failed",
            _ => "fetching",
        };
        return $"{blob.Kind,-6} {Short(blob.Digest)} {state}";
    }

    private static void Summarize(List<ImageDone> done)
    {
        var table = new Table().AddColumns("IMAGE", "DIGEST", "FETCHED", "CACHED", "TIME", "THROUGHPUT", "RESULT");
        foreach (var image in done)
        {
            var elapsed = image.Duration?.ToTimeSpan() ?? TimeSpan.Zero;
            table.AddRow(
                Markup.Escape(image.Image), Short(image.Digest), ByteSize.Format(image.BytesFetched), ByteSize.Format(image.BytesCached),
                $"{elapsed.TotalSeconds:0.0}s", ByteSize.Rate(image.BytesFetched, elapsed),
                image.Error switch { ImageError.None when image.Pinned => "ok, pinned", ImageError.None => "ok", ImageError.NotFound => "not found", ImageError.NoUpstream => "no upstream", _ => "failed" });
        }
        AnsiConsole.Write(table);
        var ok = done.Count(d => d.Error == ImageError.None);
        AnsiConsole.MarkupLine(Markup.Escape($"{ok} of {done.Count} images cached: {ByteSize.Format(done.Sum(d => d.BytesFetched))} fetched, {ByteSize.Format(done.Sum(d => d.BytesCached))} already cached"));
        foreach (var failed in done.Where(d => d.Error != ImageError.None))
        {
            Console.Error.WriteLine($"nodecache: {failed.Message}");
        }
    }

    private static ExitCode Outcome(List<ImageDone> done) =>
        done.Any(d => d.Error is ImageError.NotFound or ImageError.NoUpstream) ? ExitCode.NotFound
        : done.Any(d => d.Error != ImageError.None) ? ExitCode.Failed
        : ExitCode.Ok;

    internal static string Short(string digest) => digest.Length > "sha256:".Length + 12 ? digest[..("sha256:".Length + 12)] : digest;
}
