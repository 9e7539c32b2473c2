using System.CommandLine;
using NodeCache.Control.V1;
using NodeCache.Oci;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary>
/// <c>nodecache export REF... -o FILE</c>: write cached images as an OCI image layout tar, for carrying them to a node or
/// cluster with no registry. The archive goes to a temp file beside FILE and is renamed only once whole.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("image") { Description = "cached images, e.g. harbor.example/team/app:1.2 or harbor.example/team/app@sha256:…", Arity = ArgumentArity.OneOrMore };
        var file = new Option<string>("--output", "-o") { Description = "the tar file to write", HelpName = "FILE", Required = true };
        var force = new Option<bool>("--force") { Description = "replace FILE if it exists" };
        var command = new Command("export", "Write cached images as an OCI image layout tar") { images, file, force };
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var references = parse.GetValue(images)!;
            foreach (var reference in references)
            {
                if (!ImageReference.TryParse(reference, out _, out var error))
                {
                    throw new CliFailure(ExitCode.BadReference, $"bad image reference '{reference}': {error}");
                }
            }
            var target = Path.GetFullPath(parse.GetValue(file)!);
            var replace = parse.GetValue(force);
            if (!replace && Path.Exists(target))
            {
                throw new CliFailure(ExitCode.Usage, $"{target} exists: give --force to replace it");
            }
            var request = new ExportRequest();
            request.Images.AddRange(references);
            var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
            try
            {
                var done = await ReceiveAsync(agent, request, temp, cancellationToken).ConfigureAwait(false);
                try
                {
                    File.Move(temp, target, overwrite: replace);
                }
                catch (IOException ex)
                {
                    throw new CliFailure(ExitCode.Failed, $"cannot write {target}: {ex.Message}");
                }
                AnsiConsole.MarkupLine(Markup.Escape($"exported {done.Images} images to {target}: {done.Blobs} blobs, {ByteSize.Format(done.Bytes)}"));
                return ExitCode.Ok;
            }
            finally
            {
                File.Delete(temp);
            }
        });
        return command;
    }

    private static async Task<ExportDone> ReceiveAsync(AgentConnection agent, ExportRequest request, string temp, CancellationToken cancellationToken)
    {
        using var call = agent.Client.Export(request, cancellationToken: cancellationToken);
        FileStream output;
        try
        {
            output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliFailure(ExitCode.Failed, $"cannot write {temp}: {ex.Message}");
        }
        await using (output.ConfigureAwait(false))
        {
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                var chunk = call.ResponseStream.Current;
                if (chunk.PartCase == ExportChunk.PartOneofCase.Done)
                {
                    output.Flush(flushToDisk: true);
                    return chunk.Done;
                }
                try
                {
                    await output.WriteAsync(chunk.Data.Memory, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    throw new CliFailure(ExitCode.Failed, $"cannot write {temp}: {ex.Message}");
                }
            }
        }
        throw new CliFailure(ExitCode.Failed, "the agent ended the export before the archive was complete");
    }
}
