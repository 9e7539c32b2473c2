using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using NodeCache.Control.V1;
using NodeCache.Oci;
using Spectre.Console;

namespace NodeCache.Cli.Commands;

/// <summary>
/// <c>nodecache import FILE|DIR --registry NAME</c>: load an OCI image layout or a <c>docker save</c> tarball into this node's
/// cache through the agent, so containerd pulls its images with no registry reachable.
/// </summary>
internal static class ImportCommand
{
    // Well under gRPC's default 4 MiB message limit, large enough that the per-message cost is small next to the copy.
    private const int ChunkSize = 256 * 1024;

    public static Command Create()
    {
        var archive = new Argument<string>("archive") { Description = "an OCI image layout (a folder, or a tar, gzip'd or not) or a docker save tarball" };
        var registry = new Option<string>("--registry")
        {
            Description = "the registry name pulls will ask for, e.g. harbor.example (the archive's own registry host is dropped)",
            Required = true,
        };
        var repository = new Option<string?>("--repository") { Description = "the repository of images the archive names by tag alone (skopeo copy oci:DIR:TAG)" };
        var pin = new Option<bool>("--pin") { Description = "keep the imported images out of eviction" };
        var command = new Command("import", "Load an image archive into this node's cache, for pulls with no registry reachable") { archive, registry, repository, pin };
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var start = new ImportStart { Registry = parse.GetValue(registry)!, Repository = parse.GetValue(repository) ?? "", Pin = parse.GetValue(pin) };
            if (!RegistryHost.IsValid(start.Registry))
            {
                throw new CliFailure(ExitCode.BadReference, $"'{start.Registry}' is not a registry name");
            }
            if (start.Repository.Length > 0 && !RepositoryName.TryParse(start.Repository, out _))
            {
                throw new CliFailure(ExitCode.BadReference, $"'{start.Repository}' is not a repository name");
            }
            var path = parse.GetValue(archive)!;
            await using var source = ArchiveSource.Open(path);
            start.Size = source.Size ?? 0;
            var json = parse.GetValue(CommonOptions.Output) == OutputFormat.Json;
            using var call = agent.Client.Import(cancellationToken: cancellationToken);
            var view = new ImportView(json || !AnsiConsole.Profile.Capabilities.Interactive ? null : AnsiConsole.Console, source.Size, json);
            var result = await view.RunAsync(
                sent => UploadAsync(call.RequestStream, start, source.Stream, path, sent, cancellationToken),
                call.ResponseStream,
                cancellationToken).ConfigureAwait(false);
            if (json)
            {
                Console.WriteLine(CommonOptions.Json(result));
            }
            else
            {
                Summarize(result);
            }
            return ExitCode.Ok;
        });
        return command;
    }

    // A write the agent refuses because the call already ended (it refused the archive) is not the failure to report:
    // the call's status is, and the caller reads it from the response stream.
    private static async Task UploadAsync(IClientStreamWriter<ImportChunk> requests, ImportStart start, Stream archive, string path, IProgress<long> sent, CancellationToken cancellationToken)
    {
        try
        {
            await requests.WriteAsync(new ImportChunk { Start = start }, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[ChunkSize];
            long total = 0;
            while (true)
            {
                int read;
                try
                {
                    read = await archive.ReadAtLeastAsync(buffer, ChunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CliFailure(ExitCode.Failed, $"cannot read {path}: {ex.Message}");
                }
                if (read == 0)
                {
                    break;
                }
                await requests.WriteAsync(new ImportChunk { Data = ByteString.CopyFrom(buffer, 0, read) }, cancellationToken).ConfigureAwait(false);
                sent.Report(total += read);
            }
            await requests.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static void Summarize(NodeCache.Control.V1.ImportResult result)
    {
        var table = new Table().AddColumns("IMAGE", "DIGEST", "BLOBS");
        foreach (var image in result.Images)
        {
            table.AddRow(Markup.Escape(image.Image), image.Digest, image.Blobs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        var pinned = result.PinnedBlobs > 0 ? $", {result.PinnedBlobs} blobs pinned" : "";
        AnsiConsole.MarkupLine(Markup.Escape(
            $"imported {result.Images.Count} images: {result.NewBlobs} blobs ({ByteSize.Format(result.NewBytes)}) new to the cache{pinned}"));
    }
}
