using System.CommandLine;
using Grpc.Core;
using NodeCache.Cli.Kubernetes;
using NodeCache.Control.V1;
using NodeCache.Oci;
using NodeCache.Prewarm;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary>
/// <c>nodecache prewarm REF...</c>: fetch images into this node's cache, with a progress bar per blob and a summary; with
/// <c>--all-nodes</c> or <c>--selector</c>, into the caches of the cluster's nodes through an ImagePrewarm.
/// </summary>
internal static class PrewarmCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("image") { Description = "image references, e.g. harbor.example/team/app:1.2 or nginx@sha256:…", Arity = ArgumentArity.OneOrMore };
        var platform = new Option<string?>("--platform") { Description = "os/arch[/variant] to take from a multi-platform image (default: the node's)" };
        var pin = new Option<bool>("--pin") { Description = "keep the images out of eviction" };
        var allNodes = new Option<bool>("--all-nodes") { Description = "prewarm on every node of the cluster: creates an ImagePrewarm through the Kubernetes API and follows it" };
        var selector = new Option<string?>("--selector", "-l") { Description = "prewarm on the nodes carrying these labels (key=value[,key=value]): creates an ImagePrewarm and follows it" };
        var ttl = new Option<string?>("--ttl") { Description = "with --all-nodes/--selector: how long the ImagePrewarm applies (30m, 24h, 1h30m); then nodes mark it Expired" };
        var name = new Option<string?>("--name") { Description = "with --all-nodes/--selector: the ImagePrewarm's name (default prewarm-<random>)" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "with --all-nodes/--selector: the cluster (default $KUBECONFIG, ~/.kube/config, else in-cluster)" };
        var noWait = new Option<bool>("--no-wait") { Description = "with --all-nodes/--selector: return once the ImagePrewarm is created" };
        var timeout = new Option<string>("--timeout") { Description = "with --all-nodes/--selector: how long to wait for every node", DefaultValueFactory = _ => "10m" };
        var command = new Command("prewarm", "Fetch images into this node's cache (or, with --all-nodes or --selector, the cluster's nodes' caches) before they are pulled")
        {
            images, platform, pin, allNodes, selector, ttl, name, kubeconfig, noWait, timeout,
        };
        command.SetAction((parse, cancellationToken) => parse.GetValue(allNodes) || parse.GetValue(selector) is not null
            ? CommandRun.RunLocalAsync(parse, (parse, cancellationToken) =>
            {
                // Everything the command line says is checked before the cluster is asked anything.
                var request = ClusterRequest(parse, CheckedReferences(parse.GetValue(images)!), allNodes, selector, platform, pin, ttl, name, noWait, timeout);
                return ClusterPrewarm.RunAsync(
                    ClusterConnection.Open(parse.GetValue(kubeconfig)), request, new ClusterPrewarmView(parse.GetValue(CommonOptions.Output)), cancellationToken);
            }, cancellationToken)
            : CommandRun.RunAgentAsync(parse, (parse, agent, cancellationToken) =>
            {
                if (new Option[] { ttl, name, kubeconfig, noWait, timeout }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } clusterOnly)
                {
                    throw new CliFailure(ExitCode.Usage, $"{clusterOnly.Name} applies to --all-nodes or --selector");
                }
                return OnThisNodeAsync(parse, agent, images, platform, pin, cancellationToken);
            }, cancellationToken));
        return command;
    }

    private static ClusterPrewarmRequest ClusterRequest(
        ParseResult parse, string[] references, Option<bool> allNodes, Option<string?> selector, Option<string?> platform, Option<bool> pin, Option<string?> ttl,
        Option<string?> name, Option<bool> noWait, Option<string> timeout)
    {
        if (parse.GetValue(allNodes) && parse.GetValue(selector) is not null)
        {
            throw new CliFailure(ExitCode.Usage, "--all-nodes and --selector exclude each other");
        }
        if (parse.GetValue(ttl) is { } ttlText && !PrewarmTtl.TryParse(ttlText, out _))
        {
            throw new CliFailure(ExitCode.Usage, $"--ttl '{ttlText}': expected a duration like 30m, 24h or 1h30m");
        }
        if (!PrewarmTtl.TryParse(parse.GetValue(timeout), out var wait))
        {
            throw new CliFailure(ExitCode.Usage, $"--timeout '{parse.GetValue(timeout)}': expected a duration like 30s, 10m or 1h");
        }
        return new ClusterPrewarmRequest(
            references, parse.GetValue(selector) is { } labels ? NodeSelectorText.Parse(labels) : null, parse.GetValue(platform), parse.GetValue(pin),
            parse.GetValue(ttl), parse.GetValue(name), !parse.GetValue(noWait), wait);
    }

    private static string[] CheckedReferences(string[] references)
    {
        foreach (var reference in references)
        {
            // Checked here too, so a typo fails before the agent or the cluster is even asked.
            if (!ImageReference.TryParse(reference, out _, out var error))
            {
                throw new CliFailure(ExitCode.BadReference, $"bad image reference '{reference}': {error}");
            }
        }
        return references;
    }

    private static async Task<ExitCode> OnThisNodeAsync(
        ParseResult parse, AgentConnection agent, Argument<string[]> images, Option<string?> platform, Option<bool> pin, CancellationToken cancellationToken)
    {
        var references = CheckedReferences(parse.GetValue(images)!);
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
                image.Error switch { ImageError.None => "ok", ImageError.NotFound => "not found", ImageError.NoUpstream => "no upstream", _ => "failed" });
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
